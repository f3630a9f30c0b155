"""Session bookings under stress, through the real trip-catalog, businesses, passes, wallet, payments
and bookings (PostgreSQL, NATS), checked against the ledger of their databases (booking_ledger.py).

1. A storm on a scarce session with mixed payments: passes (some used up), wallets (some short),
   cards (some declined). Never above capacity; seats held are the live bookings'; every failed
   booking left nothing (no seat, no pass session, no money, no card hold).
2. A double-debit storm: concurrent CreateBooking twins under each booking id, on one wallet that
   pays for only some of them. One debit per booking id, and the wallet ends at zero.
3. A PENDING_PAYMENT storm: slot attendees whose session finishes with some wallets short; then
   those wallets are topped up twice at once, and some also paid by card at the same moment. Every
   booking ends PAID exactly once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter

import pytest
from novatrek.bookings.v1 import bookings_pb2 as pb

from services.bookings.domain import derived_id
from tests.helpers import eventually
from tests.integration.test_catalog_sessions import move
from tests.reliability.booking_ledger import CARD, booking_problems, debits_per_booking, rows, still_running
from tests.reliability.booking_mesh import PRICE, request, start

PASS, WALLET, CARD_METHOD = pb.PAYMENT_METHOD_PASS, pb.PAYMENT_METHOD_WALLET, pb.PAYMENT_METHOD_CARD
STATUS = {v.number: v.name.removeprefix("BOOKING_STATUS_") for v in pb.BookingStatus.DESCRIPTOR.values}


@pytest.fixture(scope="module")
async def mesh(make_database, nats_url, businesses_service):
    # Deadlines of a quiet mesh: under the whole suite's load a 1 s one (the outage tests') is outlived.
    running = await start(make_database, nats_url, businesses_service, outbound_timeout_s=5.0, payments_timeout_s=8.0)
    yield running
    await running.close()


def ended(answer) -> str:
    return f"{STATUS[answer.booking.status]} {answer.booking.failure_reason}".strip()


async def clean(mesh) -> dict:
    """Waits for every saga to end, then answers the ledger's broken invariants (none: {})."""
    await eventually(lambda: _settled(mesh), timeout_s=30)
    return {k: v for k, v in (await booking_problems(mesh.db)).items() if v}


async def _settled(mesh) -> bool:
    return not await still_running(mesh.db)


@pytest.mark.timeout(180)
async def test_a_mixed_payment_storm_on_a_scarce_session_never_overbooks_and_failures_leave_nothing(mesh):
    company, capacity = await mesh.company(), 30
    session = await mesh.session(company, capacity)
    customers = await mesh.customers(company, 24)
    requests = []
    for i, customer in enumerate(customers):  # 6 passes of 2 sessions, 6 wallets (3 short), 12 cards (6 declined)
        if i < 6:
            payment = {"method": PASS, "entitlement_id": await mesh.pass_of(company, customer, 2)}
        elif i < 12:
            await mesh.top_up(company, customer, 1000 if i < 9 else 20)
            payment = {"method": WALLET}
        else:
            payment = {"method": CARD_METHOD, "method_reference": CARD if i < 18 else "decline"}
        requests += [request(company, session, customer, **payment) for _ in range(5)]
    started = time.monotonic()
    answers = await asyncio.gather(*(mesh.stub.CreateBooking(r, timeout=60) for r in requests))
    elapsed = time.monotonic() - started
    by_mode = Counter(
        f"{pb.PaymentMethod.Name(r.payment.method)[15:]} {ended(a)}" for r, a in zip(requests, answers, strict=True)
    )
    confirmed = sum(a.booking.status == pb.BOOKING_STATUS_CONFIRMED for a in answers)
    problems = await clean(mesh)
    booked = await rows(mesh.db.catalog, "SELECT booked FROM catalog.sessions WHERE session_id = :s", s=session)
    figures = {"bookings": len(requests), "capacity": capacity, "confirmed": confirmed, "seconds": round(elapsed, 2)}
    print("RELIABILITY booking-storm", json.dumps({**figures, "ended": dict(sorted(by_mode.items()))}))
    allowed = {"CONFIRMED", "FAILED SOLD_OUT", "FAILED ENTITLEMENT_EXHAUSTED", "FAILED INSUFFICIENT_FUNDS"}
    assert {e.split(" ", 1)[1] for e in by_mode} <= allowed | {"FAILED PAYMENT_DECLINED"}, by_mode
    assert 0 < confirmed <= capacity and booked[0][0] == confirmed, figures
    assert not problems, problems


@pytest.mark.timeout(180)
async def test_booking_twins_on_one_wallet_debit_it_once_per_booking(mesh):
    company = await mesh.company()
    session, (customer,) = await mesh.session(company, 1000), await mesh.customers(company, 1)
    affordable, ids, twins = 10, 15, 8
    await mesh.top_up(company, customer, affordable * PRICE)
    firsts = [request(company, session, customer, method=WALLET) for _ in range(ids)]
    calls = [first for first in firsts for _ in range(twins)]
    started = time.monotonic()
    answers = await asyncio.gather(*(mesh.stub.CreateBooking(r, timeout=60) for r in calls))
    elapsed = time.monotonic() - started
    per_id: dict[str, set[str]] = {}
    for r, a in zip(calls, answers, strict=True):
        per_id.setdefault(r.booking_id, set()).add(ended(a))
    debits = await debits_per_booking(mesh.db)
    balance = (await mesh.wallets.wallet(customer, company)).total
    figures = {"calls": len(calls), "booking_ids": ids, "seconds": round(elapsed, 2), "ended": Counter(
        next(iter(e)) for e in per_id.values()
    )}  # fmt: skip
    print("RELIABILITY booking-twins", json.dumps(figures, default=dict))
    assert all(len(e) == 1 for e in per_id.values()), per_id  # every twin answered its booking's one end
    assert figures["ended"] == {"CONFIRMED": affordable, "FAILED INSUFFICIENT_FUNDS": ids - affordable}, figures
    assert sorted(debits.get(uuid.UUID(i), 0) for i in per_id) == [0] * (ids - affordable) + [1] * affordable
    assert (balance.units, balance.nanos) == (0, 0)
    assert not await clean(mesh)


@pytest.mark.timeout(180)
async def test_a_pending_payment_storm_ends_with_every_slot_attendee_paid_exactly_once(mesh):
    company, rich, short = await mesh.company(), 20, 10
    session = await mesh.session(company, 40)
    customers = await mesh.customers(company, rich + short)
    for i, customer in enumerate(customers):
        await mesh.top_up(company, customer, 100 if i < rich else 10)
    attendees = [request(company, session, c, method=WALLET) for c in customers]
    for r in attendees:
        r.type = pb.BOOKING_TYPE_SLOT_ATTENDEE
    made = await asyncio.gather(*(mesh.stub.CreateBooking(r, timeout=60) for r in attendees))
    assert {(a.booking.status, a.booking.payment_status) for a in made} == {
        (pb.BOOKING_STATUS_CONFIRMED, pb.PAYMENT_STATUS_UNPAID)
    }
    started = time.monotonic()
    await move(mesh.catalog.database_url, [session], -3, -1)  # the finish job announces SessionFinished
    pending = await eventually(lambda: _statuses(mesh, {"paid": rich, "pending_payment": short}), timeout_s=60)
    billed_s = time.monotonic() - started
    owing = [a.booking for a in made if a.booking.customer_id in set(customers[rich:])]
    by_card = owing[:4]  # paid by card while their wallets are topped up: one of the two takes the money

    async def pay(b):
        try:
            await mesh.stub.PayBooking(pb.PayBookingRequest(booking_id=b.booking_id, method_reference=CARD))
            return "OK"
        except Exception as refused:  # the loop holds the booking, or paid it already
            return getattr(refused, "code", lambda: "?")().name

    top_ups = [mesh.top_up(company, b.customer_id, 50) for b in owing for _ in range(2)]
    started = time.monotonic()
    paid_by_card = await asyncio.gather(*top_ups, *(pay(b) for b in by_card))
    await eventually(lambda: _statuses(mesh, {"paid": rich + short}), timeout_s=60)
    settled_s = time.monotonic() - started
    debits = await debits_per_booking(mesh.db)
    captured = {
        r[0]
        for r in await rows(
            mesh.db.payments, "SELECT checkout_id FROM payments.authorizations WHERE status = 'captured'"
        )
    }
    mine = [uuid.UUID(a.booking.booking_id) for a in made]
    by_card_paid = [b for b in mine if derived_id(b, f"card:{CARD}") in captured]
    figures = {
        "attendees": rich + short, "short": short, "billed_s": round(billed_s, 2), "pending": pending,
        "paid_after_top_up_s": round(settled_s, 2), "pay_booking": Counter(paid_by_card[len(top_ups):]),
        "wallet_debits": sum(debits.get(b, 0) for b in mine), "card_captures": len(by_card_paid),
    }  # fmt: skip
    print("RELIABILITY pending-payment-storm", json.dumps(figures, default=dict))
    paid_times = Counter(debits.get(b, 0) + (b in by_card_paid) for b in mine)
    assert paid_times == {1: rich + short}, figures  # each paid once: by the wallet or by the card, never both
    assert not await clean(mesh)


async def _statuses(mesh, wanted: dict[str, int]):
    found = dict(
        await rows(
            mesh.db.bookings,
            "SELECT CASE WHEN payment_status = 'paid' THEN 'paid' ELSE status END, count(*) FROM bookings.bookings "
            "WHERE type = 'slot_attendee' GROUP BY 1",
        )
    )
    return found if all(found.get(k, 0) == n for k, n in wanted.items()) else None
