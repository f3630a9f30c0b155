"""Slot attendees are billed from the wallet once their session finished: the session's unpaid
bookings become due (SessionFinished, in the consumer's inbox transaction), as do a customer's
PENDING_PAYMENT bookings at a company when the wallet is topped up (WalletToppedUp). A claim-based
loop (FOR UPDATE SKIP LOCKED; no RPC inside a transaction) debits each: PAID, or PENDING_PAYMENT on
INSUFFICIENT_FUNDS. PayBooking pays a PENDING_PAYMENT booking by card; it claims the booking first, so
the loop and PayBooking never both take money for one booking."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from services.bookings import events
from services.bookings.commands import PayBooking
from services.bookings.domain import Booking, BookingStatus, PaymentMethod, PaymentStatus, derived_id
from services.bookings.handlers import Deps, get_booking
from services.bookings.ports import WalletMoves
from services.chassis.errors import Aborted, DeadlineExceeded, FailedPrecondition, Unavailable

log = logging.getLogger("novatrek.bookings.billing")
NO_WALLET = WalletMoves(Decimal(0), Decimal(0))


async def bill_due(deps: Deps, batch: int = 50) -> int:
    """One pass of the billing loop; answers how many bookings it claimed."""
    now = deps.clock()
    async with deps.uow(autocommit=True) as uow:
        claimed = await uow.bookings.claim_due(now, now + timedelta(seconds=deps.claim_s), batch)
    for row in claimed:
        try:
            await _bill(row, deps)
        except Exception as exc:  # the claim runs out and the next pass tries again
            log.warning("billing failed; retried later", extra={"booking_id": str(row.booking_id), "error": repr(exc)})
    return len(claimed)


async def _bill(row: Any, deps: Deps) -> None:
    if row.claim_key is not None:  # a card payment left unfinished: void (or refund) it first
        await deps.cards.void(row.claim_key)
    debit = derived_id(row.booking_id, "billing")
    try:
        moved = await deps.wallet.debit(debit, row.customer_id, row.company_id, row.total, row.currency)
    except (Unavailable, DeadlineExceeded):
        raise  # maybe debited: keep the claim (no card payment meanwhile); the retry is keyed
    except FailedPrecondition as refused:  # INSUFFICIENT_FUNDS (or another refusal): nothing taken
        async with deps.uow(autocommit=True) as uow:
            await uow.bookings.unpaid(row.booking_id, row.claim_until, deps.clock())
        log.info("booking pending payment", extra={"booking_id": str(row.booking_id), "reason": refused.reason})
        return
    await _paid(row.booking_id, row.claim_until, PaymentMethod.WALLET, moved, "", deps)


async def _paid(
    booking_id: uuid.UUID, held: Any, method: PaymentMethod, moved: WalletMoves, auth: str, deps: Deps
) -> Booking | None:
    """The booking paid and its BookingPaid event, one transaction, if the caller still owns its claim."""
    now = deps.clock()
    async with deps.uow() as uow:
        if not await uow.bookings.paid(booking_id, held, method, moved, auth, now):
            return None
        paid: Booking | None = await uow.bookings.get(booking_id)
        if paid is not None:
            uow.publish(events.paid(paid), now)
    return paid


async def mark_due_of_session(uow: Any, session_id: uuid.UUID) -> int:
    """SessionFinished: the session's confirmed unpaid slot attendees are to be billed."""
    return int(await uow.bookings.mark_due_of_session(session_id))


async def mark_due_of_customer(uow: Any, customer_id: uuid.UUID, company_id: uuid.UUID) -> int:
    """WalletToppedUp: the customer's PENDING_PAYMENT bookings at the company are to be billed again."""
    return int(await uow.bookings.mark_due_of_customer(customer_id, company_id))


async def pay_booking(cmd: PayBooking, deps: Deps) -> Booking:
    """Pays a PENDING_PAYMENT booking by card (authorize + capture, keyed by booking and card)."""
    found = await get_booking(cmd.booking_id, cmd.user_id, deps)
    if found.payment_status is PaymentStatus.PAID:
        return found  # idempotent
    if found.status is not BookingStatus.PENDING_PAYMENT:
        raise FailedPrecondition(
            f"booking {found.booking_id} is {found.status.value}, not pending payment",
            reason="BOOKING_NOT_PAYABLE",
            metadata={"booking_id": str(found.booking_id), "status": found.status.name},
        )
    key, now = derived_id(found.booking_id, f"card:{cmd.method_reference}"), deps.clock()
    held = now + timedelta(seconds=deps.claim_s)
    async with deps.uow(autocommit=True) as uow:
        claimed, earlier = await uow.bookings.claim_for_card(found.booking_id, key, now, held)
    if not claimed:
        raise Aborted(f"booking {found.booking_id} is being paid; retry", reason="BOOKING_PAYMENT_IN_PROGRESS")
    if earlier is not None and earlier != key:
        await deps.cards.void(earlier)  # another card's attempt that never finished
    try:
        auth = await deps.cards.authorize(key, found.customer_id, found.total, found.currency, cmd.method_reference)
    except FailedPrecondition:  # declined: nothing held, the booking stays pending payment
        async with deps.uow(autocommit=True) as uow:
            await uow.bookings.unclaim(found.booking_id, held)
        raise
    await deps.cards.capture(auth)
    paid = await _paid(found.booking_id, held, PaymentMethod.CARD, NO_WALLET, auth, deps)
    if paid is None:
        raise Aborted(f"booking {found.booking_id} was taken over while paid; retry", reason="CONCURRENT_CHANGE")
    return paid
