"""The partner booking saga's state: typed, frozen, persisted as JSON by the chassis runner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.chassis.saga import SagaState
from services.partners.domain import BookingStatus, CommissionPlan, Partner, PartnerBooking, commission_record_of


@dataclass(frozen=True)
class Reserved:
    """What the reservation step learnt: the reservation's code and price."""

    confirmation_code: str
    gross: Decimal
    currency: str


@dataclass(frozen=True)
class Commission:
    amount: Decimal
    rate: Decimal


@dataclass(frozen=True)
class BookingSagaState(SagaState):
    version = 2  # 2: no availability check step (its hold answers SOLD_OUT)

    # the request, as the handler accepted it
    idempotency_key: str
    request_hash: str
    guest_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    trip_id: uuid.UUID
    trip_date: date
    party_size: int
    partner_reference: str
    # decided by the handler
    booking_id: uuid.UUID
    partner_id: uuid.UUID
    reservation_id: uuid.UUID
    plan: CommissionPlan  # as the partner's credentials were checked against it
    created_at: datetime
    # learnt by the steps
    reserved: Reserved | None = None  # create_reservation
    commission: Commission | None = None  # process_commission

    @classmethod
    def start(cls, request: dict[str, Any], partner: Partner, now: datetime) -> BookingSagaState:
        """A new booking's state: `request` holds the request fields by name."""
        booking_id = uuid.uuid4()
        return cls(
            **request,
            booking_id=booking_id,
            partner_id=partner.partner_id,
            reservation_id=uuid.uuid5(booking_id, "reservation"),  # client-assigned: it can always be cancelled
            plan=partner.plan,
            created_at=now,
        )

    @property
    def commission_record_id(self) -> uuid.UUID:
        return commission_record_of(self.booking_id)

    def reservation(self) -> Reserved:
        """What create_reservation learnt, for the steps after it."""
        if self.reserved is None:
            raise RuntimeError(f"booking {self.booking_id} has no reservation yet")
        return self.reserved

    def booking(self) -> PartnerBooking:
        if self.reserved is None or self.commission is None:
            raise RuntimeError(f"booking {self.booking_id} is not priced yet")
        return PartnerBooking(
            booking_id=self.booking_id,
            partner_id=self.partner_id,
            reservation_id=self.reservation_id,
            confirmation_code=self.reserved.confirmation_code,
            partner_reference=self.partner_reference,
            guest_id=self.guest_id,
            trip_id=self.trip_id,
            trip_date=self.trip_date,
            party_size=self.party_size,
            status=BookingStatus.CONFIRMED,
            gross_amount=self.reserved.gross,
            commission_amount=self.commission.amount,
            commission_rate=self.commission.rate,
            currency=self.reserved.currency,
            created_at=self.created_at,
        )

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Version 1 has this shape (its saga had one more step); version 0 (the release before
        versions) is one flat dict, the steps' results at its top level."""
        if version == 1:
            return data
        if version != 0:
            return super().upgrade(data, version)
        data = dict(data)
        reserved = {k: data.pop(k) for k in ("confirmation_code", "gross", "currency") if k in data}
        if reserved:
            data["reserved"] = reserved
        if "commission" in data:
            data["commission"] = {"amount": data.pop("commission"), "rate": data.pop("rate")}
        return data

    @classmethod
    def steps_done_of(cls, steps_done: int, version: int) -> int:
        """Before version 2 a check_availability step (no effect) came second: a saga in it, or past it,
        stands one step earlier now."""
        return steps_done if version >= 2 else max(0, steps_done - 1)
