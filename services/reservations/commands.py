"""Validated inputs of the reservation use cases (built by the servicer from protobuf)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from services.reservations.domain import Status


@dataclass(frozen=True)
class CreateReservation:
    request_id: uuid.UUID
    guest_id: uuid.UUID
    trip_id: uuid.UUID
    trip_date: date
    party_size: int
    currency: str = ""
    requested_by: str = "system"
    reservation_id: uuid.UUID | None = None  # client-assigned, else derived from request_id

    def fingerprint(self) -> str:
        """What makes a retry the same request (the idempotency key must not be reused for another)."""
        raw = f"{self.guest_id}|{self.trip_id}|{self.trip_date}|{self.party_size}|{self.currency}"
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class UpdateReservation:
    reservation_id: uuid.UUID
    trip_date: date | None
    party_size: int | None
    expected_revision: int = 0


@dataclass(frozen=True)
class TransitionStatus:
    reservation_id: uuid.UUID
    to: Status
    changed_by: str = "system"
    reason: str = ""
    expected_revision: int = 0
    # CancelReservation: cancelling a cancelled reservation answers it unchanged.
    idempotent: bool = False


@dataclass(frozen=True)
class AddParticipant:
    reservation_id: uuid.UUID
    guest_id: uuid.UUID
    role: str = "guest"
    waiver_signed: bool = False


@dataclass(frozen=True)
class SearchReservations:
    filters: dict
    position: list | None
    limit: int
