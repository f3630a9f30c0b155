"""The partner booking pipeline as a saga, in the seed's order: validate guest identity, check
availability, create the reservation, confirm it, process the commission, record + announce."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from services.chassis.errors import DomainError, error_record
from services.chassis.saga import SagaType, Step
from services.partners import events
from services.partners.domain import Basis, BookingStatus, CommissionPlan, PartnerBooking, commission
from services.partners.ports import Availability, CommissionLedger, GuestIdentity, ReservationDesk

SAGA = "partner_booking"
# Errors that are the booking's answer (stored under the idempotency key); others may pass.
FINAL = ("InvalidArgument", "NotFound", "FailedPrecondition", "AlreadyExists", "PermissionDenied")


@dataclass
class PipelinePorts:
    uow: object
    guests: GuestIdentity
    availability: Availability
    reservations: ReservationDesk
    ledger: CommissionLedger


def booking_of(state: dict) -> PartnerBooking:
    return PartnerBooking(
        booking_id=uuid.UUID(state["booking_id"]),
        partner_id=uuid.UUID(state["partner_id"]),
        reservation_id=uuid.UUID(state["reservation_id"]),
        confirmation_code=state["confirmation_code"],
        partner_reference=state["partner_reference"],
        guest_id=uuid.UUID(state["guest_id"]),
        trip_id=uuid.UUID(state["trip_id"]),
        trip_date=date.fromisoformat(state["trip_date"]),
        party_size=state["party_size"],
        status=BookingStatus.CONFIRMED,
        gross_amount=Decimal(state["gross"]),
        commission_amount=Decimal(state["commission"]),
        commission_rate=Decimal(state["rate"]),
        currency=state["currency"],
        created_at=datetime.fromisoformat(state["created_at"]),
    )


def partner_booking_saga(p: PipelinePorts, on_response) -> SagaType:
    async def validate_guest(s):
        await p.guests.ensure_eligible(s["guest_id"], s["first_name"], s["last_name"], s["email"])

    async def check_availability(s):
        await p.availability.ensure_available(
            uuid.UUID(s["trip_id"]), date.fromisoformat(s["trip_date"]), s["party_size"]
        )

    async def create_reservation(s):
        r = await p.reservations.create(
            uuid.UUID(s["reservation_id"]),
            uuid.UUID(s["guest_id"]),
            uuid.UUID(s["trip_id"]),
            date.fromisoformat(s["trip_date"]),
            s["party_size"],
        )
        return {"confirmation_code": r.confirmation_code, "gross": str(r.total), "currency": r.currency}

    async def cancel_reservation(s):
        await p.reservations.cancel(uuid.UUID(s["reservation_id"]), "partner booking failed")

    async def confirm_reservation(s):
        await p.reservations.confirm(uuid.UUID(s["reservation_id"]))

    async def process_commission(s):
        rate = await _tier_rate(p, s)
        amount = commission(Decimal(s["gross"]), rate, s["currency"])
        booking = booking_of({**s, "commission": str(amount), "rate": str(rate)})
        await p.ledger.process(
            booking.commission_record_id,
            booking.partner_id,
            booking.booking_id,
            booking.reservation_id,
            amount,
            s["currency"],
        )
        return {"commission": str(amount), "rate": str(rate)}

    async def reverse_commission(s):
        async with p.uow(autocommit=True) as uow:  # its place in the month's volume, if it took one; first,
            await uow.volumes.give_back(uuid.UUID(s["booking_id"]))  # so a payments outage cannot hold it
        await p.ledger.reverse(uuid.uuid5(uuid.UUID(s["booking_id"]), "commission"), "partner booking failed")

    async def record(s):
        booking = booking_of(s)
        async with p.uow() as uow:
            if await uow.bookings.add(booking, booking.created_at):
                uow.publish(events.confirmed(booking), booking.created_at)
            await uow.idempotency.complete(
                booking.partner_id, s["idempotency_key"], on_response(booking), is_error=False
            )

    async def settle_key(s, error):
        async with p.uow() as uow:
            partner_id = uuid.UUID(s["partner_id"])
            if isinstance(error, DomainError) and type(error).__name__ in FINAL:
                await uow.idempotency.complete(
                    partner_id, s["idempotency_key"], json.dumps(error_record(error)).encode(), is_error=True
                )
            else:  # transient or unknown: the partner may retry with the same key
                await uow.idempotency.release(partner_id, s["idempotency_key"])

    return SagaType(
        SAGA,
        [
            Step("validate_guest", validate_guest),
            Step("check_availability", check_availability),
            Step("create_reservation", create_reservation, cancel_reservation),
            Step("confirm_reservation", confirm_reservation),
            Step("process_commission", process_commission, reverse_commission),
            Step("record_and_announce", record),
        ],
        on_compensated=settle_key,
        pivot=5,
    )  # the booking's own write: once tried, only forward


async def _tier_rate(p: PipelinePorts, s: dict) -> Decimal:
    """The tier the partner's month reaches with this booking: its place in the month's volume,
    taken in one statement, so two bookings at a tier boundary cannot both count without the other."""
    plan, created = CommissionPlan.from_json(s["plan"]), datetime.fromisoformat(s["created_at"])
    async with p.uow(autocommit=True) as uow:
        bookings, gross = await uow.volumes.take(
            uuid.UUID(s["booking_id"]),
            uuid.UUID(s["partner_id"]),
            created.astimezone(UTC).date().replace(day=1),
            Decimal(s["gross"]),
        )
    return plan.rate_for(Decimal(bookings) if plan.basis is Basis.BOOKING_COUNT else gross)
