"""A new booking as its saga starts it (pending): the session and extras as sold, checked against the
request (pure). Refusals here are errors, not failed bookings: nothing was written, the id is unspent."""

from __future__ import annotations

from datetime import datetime

from services.bookings.commands import CreateBooking
from services.bookings.domain import Booking, BookingExtra, BookingStatus, PaymentStatus, fingerprint_of
from services.bookings.ports import Customer, ExtraInfo, SessionInfo
from services.chassis.errors import FailedPrecondition, NotFound


def snapshot(
    cmd: CreateBooking, customer: Customer, session: SessionInfo, extras: list[ExtraInfo], now: datetime
) -> Booking:
    if session.company_id != cmd.company_id:
        raise NotFound(f"session {cmd.session_id} not found", reason="SESSION_NOT_FOUND")
    if not session.scheduled or session.start <= now:
        raise FailedPrecondition(
            f"session {session.session_id} is not bookable (finished, cancelled or started)",
            reason="SESSION_NOT_BOOKABLE",
            metadata={"session_id": str(session.session_id)},
        )
    return Booking(
        booking_id=cmd.booking_id,
        session_id=session.session_id,
        company_id=cmd.company_id,
        activity_id=session.activity_id,
        customer_id=customer.customer_id,
        user_id=customer.user_id,
        type=cmd.type,
        status=BookingStatus.PENDING,
        payment_method=cmd.method,
        payment_status=PaymentStatus.UNPAID,
        session_start=session.start,
        session_end=session.end,
        price=session.price,
        currency=session.currency,
        extras=_extras(cmd, session, extras),
        fingerprint=fingerprint_of_command(cmd),
        created_at=now,
        updated_at=now,
        entitlement_id=cmd.entitlement_id,
    )


def _extras(cmd: CreateBooking, session: SessionInfo, offered: list[ExtraInfo]) -> tuple[BookingExtra, ...]:
    """Each asked extra must be one of the session's activity, priced in the session's currency."""
    of_activity = {x.extra_id: x for x in offered if x.activity_id == session.activity_id}
    chosen: list[BookingExtra] = []
    for line in cmd.extras:
        extra = of_activity.get(line.extra_id)
        if extra is None:
            raise FailedPrecondition(
                f"extra {line.extra_id} is not offered with this session's activity",
                reason="EXTRA_NOT_AVAILABLE",
                metadata={"extra_id": str(line.extra_id)},
            )
        if extra.currency != session.currency:
            raise FailedPrecondition(
                f"extra {line.extra_id} is priced in {extra.currency}, the session in {session.currency}",
                reason="CURRENCY_MISMATCH",
                metadata={"extra_id": str(line.extra_id)},
            )
        chosen.append(BookingExtra(extra.extra_id, extra.name, extra.unit_price, line.quantity))
    return tuple(chosen)


def fingerprint_of_command(cmd: CreateBooking) -> str:
    """What a second request under the booking id must repeat to be answered with the first."""
    who = cmd.who
    extras = sorted((str(x.extra_id), x.quantity) for x in cmd.extras)
    return fingerprint_of(
        cmd.company_id, cmd.session_id, who.customer_id, who.user_id, who.email, cmd.type.value, extras,
        cmd.method.value, cmd.entitlement_id, cmd.method_reference,
    )  # fmt: skip
