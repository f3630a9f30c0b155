"""Events this context consumes: a completed trip, a paid session booking and a completed order earn
points; their cancellation reverses the earning. Each runs in the consumer's unit of work with the
event id in the inbox, and its operation_id derives from the subject's id (domain.event_operation),
so a redelivery and a re-publication under a new event id both earn once."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from google.type import money_pb2
from novatrek.bookings.v1 import events_pb2 as booking_events
from novatrek.orders.v1 import events_pb2 as order_events
from novatrek.reservations.v1 import events_pb2 as reservation_events
from novatrek.reservations.v1 import reservations_pb2

from services.chassis.consumer import Subscription
from services.chassis.errors import FailedPrecondition, InvalidArgument, Violations
from services.chassis.protoconv import money_from_proto, utcnow
from services.loyalty.commands import EventEarning, Reverse
from services.loyalty.domain import Source, event_operation
from services.loyalty.handlers import earn_for_event, reverse_in

log = logging.getLogger("novatrek.loyalty.consumers")
COMPLETED = reservations_pb2.RESERVATION_STATUS_COMPLETED
CANCELLED = reservations_pb2.RESERVATION_STATUS_CANCELLED


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _amount(money: money_pb2.Money) -> tuple[Decimal, str] | None:
    parsed = money_from_proto(money, "amount", Violations())
    return parsed if parsed is not None and parsed[0] >= 0 else None


async def _earn(uow, what: str, ident: str, member: str, company: str | None, source: Source, money) -> None:
    """Earns for the event; what no redelivery would change (bad ids or amount, an earning reversed
    first, the id reused with other values) is logged for the operators, not retried."""
    member_id, amount = _uuid(member), _amount(money)
    company_id = _uuid(company) if company is not None else None
    if member_id is None or amount is None or (company is not None and company_id is None):
        log.error("event to earn on is malformed", extra={"subject_id": ident, "kind": what})
        return
    earning = EventEarning(event_operation(what, ident, "earn"), member_id, company_id, source, *amount)
    try:
        await earn_for_event(uow, earning, utcnow())
    except (FailedPrecondition, InvalidArgument) as refused:
        log.warning("event earned nothing", extra={"subject_id": ident, "kind": what, "reason": refused.reason})


async def _reverse(uow, what: str, ident: str) -> None:
    """Reverses the event's earning (a tombstone when it has not arrived: it is refused if it does)."""
    if _uuid(ident) is None:
        log.error("event to reverse on is malformed", extra={"subject_id": ident, "kind": what})
        return
    reversal = Reverse(event_operation(what, ident, "reverse"), event_operation(what, ident, "earn"))
    try:
        await reverse_in(uow, reversal, utcnow())
    except InvalidArgument as refused:
        log.warning("event reversed nothing", extra={"subject_id": ident, "kind": what, "reason": refused.reason})


async def on_reservation_status_changed(event: reservation_events.ReservationStatusChanged, uow, headers) -> None:
    if event.new_status == COMPLETED:
        await _earn(uow, "reservation", event.reservation_id, event.guest_id, None, Source.TRIP, event.total_amount)
    elif event.new_status == CANCELLED:
        await _reverse(uow, "reservation", event.reservation_id)


async def on_booking_paid(event: booking_events.BookingPaid, uow, headers) -> None:
    if not event.guest_id:  # the customer has no guest profile: no member, no earning
        return
    await _earn(uow, "booking", event.booking_id, event.guest_id, event.company_id, Source.SESSION, event.amount)


async def on_booking_cancelled(event: booking_events.BookingCancelled, uow, headers) -> None:
    await _reverse(uow, "booking", event.booking.booking_id)


async def on_order_completed(event: order_events.OrderCompleted, uow, headers) -> None:
    await _earn(uow, "order", event.order_id, event.guest_id, None, Source.ORDER, event.total)


async def on_order_cancelled(event: order_events.OrderCancelled, uow, headers) -> None:
    await _reverse(uow, "order", event.order_id)


SUBSCRIPTIONS: list[Subscription[Any]] = [
    Subscription(
        reservation_events.ReservationStatusChanged, "loyalty-reservation-status", on_reservation_status_changed
    ),
    Subscription(booking_events.BookingPaid, "loyalty-booking-paid", on_booking_paid),
    Subscription(booking_events.BookingCancelled, "loyalty-booking-cancelled", on_booking_cancelled),
    Subscription(order_events.OrderCompleted, "loyalty-order-completed", on_order_completed),
    Subscription(order_events.OrderCancelled, "loyalty-order-cancelled", on_order_cancelled),
]
