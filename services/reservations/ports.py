"""What the reservation use cases need from other contexts; adapters.py implements these over gRPC."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


class DuplicateRequest(Exception):
    """Persistence: the reservation id (derived from the request id) exists already."""


class CodeCollision(Exception):
    """Persistence: the random confirmation code is taken; draw another."""


@dataclass(frozen=True)
class Hold:
    unit_price: Decimal
    currency: str


class GuestDirectory(Protocol):
    async def ensure_eligible(self, guest_id: uuid.UUID) -> None:
        """Raises FailedPrecondition(GUEST_NOT_ELIGIBLE) or Unavailable."""


class SeatInventory(Protocol):
    async def hold(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int) -> Hold:
        """Sets the reservation's hold to `seats`; idempotent. Raises FailedPrecondition(SOLD_OUT)."""

    async def release(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """Releases the reservation's hold; idempotent."""
