"""The Booking Saga on the chassis runner: Hold Seat -> Take Payment -> Confirm (the pivot) ->
Capture (cards only, forward from the pivot).

Every remote step is keyed by the booking id (the seat hold, the pass usage, the wallet debit's
operation id, the card authorization's checkout id), so a step repeated after a crash or a lost
answer acts once, and its compensation can always run (each peer leaves a tombstone when there was
nothing to undo, so a late original is refused). Confirm writes the booking, its BookingConfirmed and
BookingPaid outbox rows and (but for cards) the saga's completion in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.bookings import events
from services.bookings.domain import (
    Booking,
    BookingType,
    PaymentMethod,
    PaymentStatus,
    StartedTooLate,
    derived_id,
    failure_reason_of,
)
from services.bookings.ports import Cards, Catalog, Passes, Wallet
from services.bookings.saga_state import BookingSagaState
from services.chassis.saga import SagaType, Step, running_saga
from services.chassis.uow import UnitOfWorkFactory

log = logging.getLogger("novatrek.bookings.saga")
SAGA, CARD_SAGA = "booking", "booking-card"


@dataclass
class SagaPorts:
    uow: UnitOfWorkFactory[Any]  # BookingUnitOfWork, or an in-memory fake in unit tests
    catalog: Catalog
    passes: Passes
    wallet: Wallet
    cards: Cards
    settled: Callable[[Booking], None]  # told each booking's end (waiting twins)
    clock: Callable[[], datetime]
    start_within_s: float = 15.0  # half the lease: a saga recorded later runs no step


def saga_name(booking: Booking) -> str:
    standard_card = booking.type is BookingType.STANDARD and booking.payment_method is PaymentMethod.CARD
    return CARD_SAGA if standard_card else SAGA


def booking_sagas(p: SagaPorts) -> list[SagaType[BookingSagaState]]:
    async def hold_seat(s: BookingSagaState) -> None:
        if p.clock() - s.booking.created_at > timedelta(seconds=p.start_within_s):
            raise StartedTooLate()
        await p.catalog.hold(s.booking.session_id, s.booking.booking_id)

    async def release_seat(s: BookingSagaState) -> None:
        await p.catalog.release(s.booking.session_id, s.booking.booking_id)

    async def take_payment(s: BookingSagaState) -> BookingSagaState | None:
        b = s.booking
        if b.type is BookingType.SLOT_ATTENDEE:
            return None  # billed from the wallet when the session finishes (billing.py)
        if b.payment_method is PaymentMethod.PASS and b.entitlement_id is not None:
            await p.passes.consume(b.entitlement_id, b.booking_id, b.customer_id, b.activity_id, b.session_start)
            return None
        if b.payment_method is PaymentMethod.WALLET:
            moved = await p.wallet.debit(b.booking_id, b.customer_id, b.company_id, b.total, b.currency)
            return replace(s, wallet_cash=moved.cash, wallet_bonus=moved.bonus)
        auth = await p.cards.authorize(b.booking_id, b.customer_id, b.total, b.currency, s.method_reference)
        return replace(s, authorization_id=auth)

    async def give_back(s: BookingSagaState) -> None:
        b = s.booking
        if b.type is BookingType.SLOT_ATTENDEE:
            return
        if b.payment_method is PaymentMethod.PASS and b.entitlement_id is not None:
            await p.passes.restore(b.entitlement_id, b.booking_id)
        elif b.payment_method is PaymentMethod.WALLET:
            await p.wallet.refund(derived_id(b.booking_id, "refund"), b.booking_id)
        elif b.payment_method is PaymentMethod.CARD:
            await p.cards.void(b.booking_id)

    async def confirm(s: BookingSagaState, completes: bool) -> None:
        now = p.clock()
        done = s.booking.confirmed(now, (s.wallet_cash, s.wallet_bonus), s.authorization_id)
        async with p.uow() as uow:
            first = await uow.bookings.confirm(done)  # False: a recovery repeating it
            if first:
                uow.publish(events.confirmed(done), now)
                if done.payment_status is PaymentStatus.PAID:
                    uow.publish(events.paid(done), now)
            if completes:
                await uow.sagas.complete(running_saga.get(), plain.completion(s, now))
        if first:
            p.settled(done)

    async def capture(s: BookingSagaState) -> None:
        await p.cards.capture(s.authorization_id)

    async def failed(s: BookingSagaState, error: BaseException | None) -> None:
        reason = failure_reason_of(error)
        end = s.booking.failed(reason, p.clock())
        async with p.uow(autocommit=True) as uow:
            first = await uow.bookings.fail(end)  # False: it had ended (a repeated recovery)
        if first:
            p.settled(end)

    async def confirm_all(s: BookingSagaState) -> None:
        await confirm(s, completes=True)

    async def confirm_card(s: BookingSagaState) -> None:
        await confirm(s, completes=False)

    steps = [
        Step("hold_seat", hold_seat, release_seat),
        Step("take_payment", take_payment, give_back),
        Step("confirm", confirm_card),  # the pivot: the booking is confirmed, only forward from here
        Step("capture_payment", capture),
    ]
    # Without a card nothing follows the confirm: it writes the saga's completion itself.
    plain_steps = [*steps[:2], replace(steps[2], action=confirm_all, completes=True)]
    plain = SagaType(SAGA, BookingSagaState, plain_steps, failed, pivot=2)
    return [plain, SagaType(CARD_SAGA, BookingSagaState, steps, failed, pivot=2)]
