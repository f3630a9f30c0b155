"""loyalty's consumers on real NATS and PostgreSQL: a completed trip, a paid session booking and a
completed order each earn once — delivered twice under one Nats-Msg-Id, re-published under the same
ce-id, or re-published under a new ce-id — and their cancellation reverses the earning once."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from novatrek.bookings.v1 import bookings_pb2
from novatrek.bookings.v1 import events_pb2 as booking_events
from novatrek.loyalty.v1 import loyalty_pb2 as pb
from novatrek.orders.v1 import events_pb2 as order_events
from novatrek.reservations.v1 import events_pb2 as reservation_events
from novatrek.reservations.v1 import reservations_pb2

from services.chassis.broker import Broker
from services.chassis.events import spec_of
from tests.helpers import eventually
from tests.integration.loyalty_fixtures import (
    ORDER,
    SESSION,
    TRIP,
    balance,
    holder,
    ledger,
    loyalty_db,  # noqa: F401 (fixture)
    money,
    new_id,
)

COMPLETED, CANCELLED = reservations_pb2.RESERVATION_STATUS_COMPLETED, reservations_pb2.RESERVATION_STATUS_CANCELLED


@pytest.fixture(scope="module")
async def broker(nats_url, loyalty_service):
    broker = Broker(nats_url, "loyalty-test")
    await broker.connect()
    await broker.ensure_streams()
    yield broker
    await broker.close()


async def publish(broker: Broker, event, event_id: str | None = None, msg_id: str | None = None) -> str:
    """Publishes like the outbox relay (ce-id, Nats-Msg-Id); returns the ce-id."""
    event_id = event_id or new_id()
    headers = {"ce-id": event_id, "ce-type": spec_of(type(event)).ce_type, "Nats-Msg-Id": msg_id or event_id}
    await broker.publish(spec_of(type(event)).subject, event.SerializeToString(), headers)
    return event_id


async def delivered_every_way(broker: Broker, event) -> None:
    """The same event twice under one Nats-Msg-Id (stored once), again under a new Nats-Msg-Id with
    the same ce-id (a redelivery past the inbox), and under a new ce-id (a re-publication)."""
    event_id = await publish(broker, event)
    await publish(broker, event, event_id, event_id)
    await publish(broker, event, event_id, new_id())
    await publish(broker, event)


async def settled(stub, member: str, points: int) -> None:
    await eventually(lambda: _has(stub, member, points))


async def _has(stub, member: str, points: int) -> bool:
    return (await balance(stub, member))[0] == points


async def marker(broker: Broker, stub, company: str) -> None:
    """A later booking on the same subject, handled in order: once it earned, everything before it is handled."""
    member = new_id()
    await publish(broker, paid(new_id(), company, member, money(1)))
    await settled(stub, member, 1)


def paid(booking_id: str, company: str, member: str, amount) -> booking_events.BookingPaid:
    return booking_events.BookingPaid(
        booking_id=booking_id, company_id=company, customer_id=new_id(), guest_id=member, amount=amount
    )


async def handled(engine, event_id: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(sa.text("SELECT 1 FROM loyalty.inbox WHERE event_id = :e"), {"e": event_id})
        return found.first() is not None


async def session_company(stub) -> str:
    company = new_id()
    await stub.SetEarnRule(pb.SetEarnRuleRequest(company_id=company, source=SESSION, points_per_unit="1"))
    return company


async def test_a_paid_booking_earns_once_and_its_cancellation_reverses_once(loyalty_stub, loyalty_db, broker):
    company, member, booking_id = await session_company(loyalty_stub), new_id(), new_id()
    await delivered_every_way(broker, paid(booking_id, company, member, money(42, 500_000_000)))
    await settled(loyalty_stub, member, 42)
    await delivered_every_way(broker, paid(new_id(), company, "", money(10)))  # no member: nothing
    await marker(broker, loyalty_stub, company)
    assert await ledger(loyalty_db, member) == (42, 42, 1)

    cancelled = booking_events.BookingCancelled(booking=bookings_pb2.Booking(booking_id=booking_id))
    await delivered_every_way(broker, cancelled)
    await settled(loyalty_stub, member, 0)
    await marker(broker, loyalty_stub, company)
    page = await loyalty_stub.ListPointTransactions(pb.ListPointTransactionsRequest(member_id=member))
    kinds = [t.kind for t in page.transactions]
    assert kinds == [pb.POINT_TRANSACTION_KIND_REVERSAL, pb.POINT_TRANSACTION_KIND_EARN]
    assert await ledger(loyalty_db, member) == (0, 0, 2)


async def test_a_booking_cancelled_before_it_was_paid_earns_nothing(loyalty_stub, loyalty_db, broker):
    company, member, booking_id = await session_company(loyalty_stub), new_id(), new_id()
    cancelled = booking_events.BookingCancelled(booking=bookings_pb2.Booking(booking_id=booking_id))
    event_id = await publish(broker, cancelled)
    # Two subjects, two consumers: nothing orders them, so the payment comes once the cancellation is handled.
    await eventually(lambda: handled(loyalty_db, event_id))
    await publish(broker, paid(booking_id, company, member, money(30)))
    await marker(broker, loyalty_stub, company)
    assert await balance(loyalty_stub, member) == (0, {})


async def test_a_completed_trip_earns_at_the_trip_company_and_a_cancellation_reverses(loyalty_stub, broker):
    trips = await holder(loyalty_stub, TRIP, "2")
    member, reservation_id = new_id(), new_id()

    def changed(status: int) -> reservation_events.ReservationStatusChanged:
        return reservation_events.ReservationStatusChanged(
            reservation_id=reservation_id, guest_id=member, new_status=status, total_amount=money(120, 750_000_000)
        )

    await delivered_every_way(broker, changed(COMPLETED))
    await settled(loyalty_stub, member, 241)
    assert await balance(loyalty_stub, member) == (241, {trips: 241})
    await delivered_every_way(broker, changed(CANCELLED))
    await settled(loyalty_stub, member, 0)
    page = await loyalty_stub.ListPointTransactions(pb.ListPointTransactionsRequest(member_id=member))
    assert [(t.kind, t.points) for t in page.transactions] == [
        (pb.POINT_TRANSACTION_KIND_REVERSAL, -241),
        (pb.POINT_TRANSACTION_KIND_EARN, 241),
    ]


async def test_a_completed_order_earns_at_the_order_company_and_a_cancellation_reverses(loyalty_stub, broker):
    shop = await holder(loyalty_stub, ORDER, "0.5", expiry_days=365)
    member, order_id = new_id(), str(uuid.uuid4())
    completed = order_events.OrderCompleted(order_id=order_id, guest_id=member, total=money(99, 990_000_000))
    await delivered_every_way(broker, completed)
    await settled(loyalty_stub, member, 49)
    account = (await loyalty_stub.GetLoyaltyAccount(pb.GetLoyaltyAccountRequest(member_id=member))).account
    assert ([(b.company_id, b.points) for b in account.balances_by_issuer], account.HasField("next_expire_time")) == (
        [(shop, 49)],
        True,
    )
    await delivered_every_way(broker, order_events.OrderCancelled(order_id=order_id, guest_id=member))
    await settled(loyalty_stub, member, 0)
    page = await loyalty_stub.ListPointTransactions(pb.ListPointTransactionsRequest(member_id=member))
    assert len(page.transactions) == 2
