"""Cancellation under the policy and its refund: one transaction cancels the booking with a REQUESTED
refund request and the BookingCancelled outbox row; the refund is then carried out inline, and a
claim-based loop finishes any that a crash or an outage left REQUESTED."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from services.bookings import events
from services.bookings.commands import CancelBooking
from services.bookings.domain import Booking, BookingStatus, PaymentMethod, PaymentStatus, RefundStatus, derived_id
from services.bookings.handlers import Deps, get_booking
from services.chassis.errors import Aborted

log = logging.getLogger("novatrek.bookings.refunds")


async def cancel_booking(cmd: CancelBooking, deps: Deps) -> Booking:
    found = await get_booking(cmd.booking_id, cmd.user_id, deps)
    if found.status is BookingStatus.CANCELLED:
        return found  # idempotent: the refund, if still requested, is the loop's
    now = deps.clock()
    cancelled = found.cancel(cmd.reason, now, deps.cancellation_cutoff_s)  # the policy's refusals
    held = now + timedelta(seconds=deps.claim_s)
    async with deps.uow() as uow:
        if not await uow.bookings.cancel(cancelled, found.status, held):
            raise Aborted(f"booking {cmd.booking_id} changed meanwhile; retry", reason="CONCURRENT_CHANGE")
        uow.publish(events.cancelled(cancelled), now)
    try:
        return await refund(cancelled, held, deps)
    except Exception as exc:  # recorded: the refund loop carries it out once the peer is back
        log.warning("refund left for the loop", extra={"booking_id": str(cmd.booking_id), "error": repr(exc)})
        return cancelled


async def refund(b: Booking, held: datetime, deps: Deps) -> Booking:
    """Gives everything back to where it came from (each call idempotent, keyed by the booking), then
    completes the request if this caller still owns it (`held`)."""
    await deps.catalog.release(b.session_id, b.booking_id)
    restored = False
    if b.payment_method is PaymentMethod.PASS and b.entitlement_id is not None:
        restored = await deps.passes.restore(b.entitlement_id, b.booking_id)
    elif b.payment_method is PaymentMethod.WALLET:  # an unbilled slot attendee: a tombstone for its debit
        await deps.wallet.refund(derived_id(b.booking_id, "refund"), b.wallet_debit_id)
    elif b.payment_method is PaymentMethod.CARD and b.authorization_id:
        await deps.cards.void_authorization(b.authorization_id)
    now = deps.clock()
    async with deps.uow() as uow:
        completed = await uow.bookings.complete_refund(b, held, restored, now)
    if not completed or b.refund is None:
        return await get_booking(b.booking_id, "", deps)
    paid = b.payment_status is PaymentStatus.PAID
    done = replace(b.refund, status=RefundStatus.COMPLETED, entitlement_restored=restored, completed_at=now)
    return replace(b, refund=done, payment_status=PaymentStatus.REFUNDED if paid else b.payment_status)


async def refund_pending(deps: Deps, batch: int = 50) -> int:
    """One pass of the refund loop: claims REQUESTED refunds whose owner's claim ran out (FOR UPDATE
    SKIP LOCKED: two processes never take the same one) and carries each out, outside any transaction."""
    now = deps.clock()
    async with deps.uow(autocommit=True) as uow:
        claimed = await uow.bookings.claim_refunds(now, now + timedelta(seconds=deps.claim_s), batch)
    for booking_id, held in claimed:
        try:
            await refund(await get_booking(booking_id, "", deps), held, deps)
        except Exception as exc:
            log.warning("refund failed; retried later", extra={"booking_id": str(booking_id), "error": repr(exc)})
    return len(claimed)
