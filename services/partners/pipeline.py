"""The partner booking pipeline as a saga: validate guest identity, create the reservation (its seat
hold answers SOLD_OUT: no availability check before it), confirm it, process the commission, record
+ announce."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC
from decimal import Decimal
from typing import Any

from services.chassis.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    error_record,
)
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaType, Step, running_saga
from services.chassis.uow import UnitOfWorkFactory
from services.partners import events
from services.partners.domain import Basis, commission
from services.partners.ports import CommissionLedger, GuestIdentity, ReservationDesk
from services.partners.saga_state import BookingSagaState, Commission, Reserved

SAGA = "partner_booking"
# Errors that are the booking's answer (stored under the idempotency key); others may pass.
FINAL: tuple[type[DomainError], ...] = (InvalidArgument, NotFound, FailedPrecondition, AlreadyExists, PermissionDenied)


@dataclass
class PipelinePorts:
    uow: UnitOfWorkFactory[Any]  # PartnerUnitOfWork, or an in-memory fake in unit tests
    guests: GuestIdentity
    reservations: ReservationDesk
    ledger: CommissionLedger


def partner_booking_saga(p: PipelinePorts) -> SagaType[BookingSagaState]:
    async def validate_guest(s: BookingSagaState) -> None:
        await p.guests.ensure_eligible(str(s.guest_id), s.first_name, s.last_name, s.email)

    async def create_reservation(s: BookingSagaState) -> BookingSagaState:
        r = await p.reservations.create(s.reservation_id, s.guest_id, s.trip_id, s.trip_date, s.party_size)
        return replace(s, reserved=Reserved(r.confirmation_code, r.total, r.currency))

    async def cancel_reservation(s: BookingSagaState) -> None:
        await p.reservations.cancel(s.reservation_id, "partner booking failed")

    async def confirm_reservation(s: BookingSagaState) -> None:
        await p.reservations.confirm(s.reservation_id)

    async def process_commission(s: BookingSagaState) -> BookingSagaState:
        gross, currency = s.reservation().gross, s.reservation().currency
        rate = await _tier_rate(p, s)
        amount = commission(gross, rate, currency)
        await p.ledger.process(s.commission_record_id, s.partner_id, s.booking_id, s.reservation_id, amount, currency)
        return replace(s, commission=Commission(amount, rate))

    async def reverse_commission(s: BookingSagaState) -> None:
        async with p.uow(autocommit=True) as uow:  # its place in the month's volume, if it took one; first,
            await uow.volumes.give_back(s.booking_id)  # so a payments outage cannot hold it
        await p.ledger.reverse(s.commission_record_id, "partner booking failed")

    async def record(s: BookingSagaState) -> None:
        """The booking, its answer and the saga's completion: one transaction."""
        booking = s.booking()
        async with p.uow() as uow:
            if await uow.bookings.add(booking, booking.created_at):
                uow.publish(events.confirmed(booking), booking.created_at)
            await uow.idempotency.complete(booking.partner_id, s.idempotency_key, booking)
            await uow.sagas.complete(running_saga.get(), saga.completion(s, utcnow()))

    async def settle_key(s: BookingSagaState, error: BaseException | None) -> None:
        async with p.uow() as uow:
            if isinstance(error, FINAL):
                await uow.idempotency.refuse(s.partner_id, s.idempotency_key, error_record(error))
            else:  # transient or unknown: the partner may retry with the same key
                await uow.idempotency.release(s.partner_id, s.idempotency_key)

    saga = SagaType(
        SAGA,
        BookingSagaState,
        [
            Step("validate_guest", validate_guest),
            Step("create_reservation", create_reservation, cancel_reservation),
            Step("confirm_reservation", confirm_reservation),
            Step("process_commission", process_commission, reverse_commission),
            Step("record_and_announce", record, completes=True),
        ],
        on_compensated=settle_key,
        pivot=4,  # the booking's own write: once tried, only forward
    )
    return saga


async def _tier_rate(p: PipelinePorts, s: BookingSagaState) -> Decimal:
    """The tier the partner's month reaches with this booking: its place in the month's volume,
    taken in one statement, so two bookings at a tier boundary cannot both count without the other."""
    month = s.created_at.astimezone(UTC).date().replace(day=1)
    async with p.uow(autocommit=True) as uow:
        bookings, gross = await uow.volumes.take(s.booking_id, s.partner_id, month, s.reservation().gross)
    return s.plan.rate_for(Decimal(bookings) if s.plan.basis is Basis.BOOKING_COUNT else gross)
