"""What the partner pipeline needs from the other contexts; adapters.py implements it over gRPC."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from services.partners.domain import PartnerBooking


@dataclass(frozen=True)
class ReservationInfo:
    reservation_id: uuid.UUID
    confirmation_code: str
    status: str  # pending | confirmed | checked_in | completed | cancelled | no_show
    total: Decimal
    currency: str


@dataclass(frozen=True)
class PayoutInfo:
    commission_record_id: uuid.UUID
    amount: Decimal
    status: str  # owed | reversed


class GuestIdentity(Protocol):
    async def ensure_eligible(self, guest_id: str, first_name: str, last_name: str, email: str) -> None: ...


class ReservationDesk(Protocol):
    async def create(
        self, reservation_id: uuid.UUID, guest_id: uuid.UUID, trip_id: uuid.UUID, day: date, party_size: int
    ) -> ReservationInfo: ...
    async def confirm(self, reservation_id: uuid.UUID) -> None:
        """Idempotent: a reservation already confirmed is done."""

    async def cancel(self, reservation_id: uuid.UUID, reason: str) -> None:
        """Idempotent; an unknown reservation is nothing to cancel."""

    async def get(self, reservation_id: uuid.UUID) -> ReservationInfo | None: ...


class CommissionLedger(Protocol):
    async def process(
        self,
        record_id: uuid.UUID,
        partner_id: uuid.UUID,
        booking_id: uuid.UUID,
        reservation_id: uuid.UUID,
        amount: Decimal,
        currency: str,
    ) -> None: ...
    async def reverse(self, record_id: uuid.UUID, reason: str) -> None:
        """Idempotent; an unknown record is nothing to reverse."""

    async def payouts(self, partner_id: uuid.UUID) -> list[PayoutInfo]: ...


@dataclass(frozen=True)
class EarlierRequest:
    """What an idempotency key holds: a request in flight, or its answer (a booking, a registered
    partner's id, or a final error)."""

    request_hash: str
    in_flight: bool
    booking: PartnerBooking | None = None
    error: dict | None = None
    partner_id: uuid.UUID | None = None
