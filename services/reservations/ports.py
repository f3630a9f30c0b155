"""What the reservation use cases need from other contexts and from their seat-release queue;
adapters.py implements these over gRPC, releases.py the queue, holds.py the seat-hold lifecycle."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
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


class ReleaseQueue(Protocol):
    """Releases of held seats, kept until trip-catalog has taken them (releases.SeatReleaser)."""

    async def announce(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> bool:
        """Queues the release of a hold about to be taken, due after a grace period; True when it
        replaced one queued earlier. Waits for a release of it in progress (else Unavailable)."""

    async def withdraw(self, reservation_id: uuid.UUID, day: date) -> None:
        """Drops that day's queued release."""

    async def due_now(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """Makes that day's release due now (queues it if it was not)."""

    async def release_now(self, reservation_id: uuid.UUID) -> None:
        """Gives back the reservation's due releases now, unless it still lives on that day; what
        fails stays queued and is retried later. Never raises."""


class SeatHolds(Protocol):
    """The seat-hold lifecycle of a reservation (holds.SeatHoldsOverQueue)."""

    def taken(
        self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int
    ) -> AbstractAsyncContextManager[Hold]:
        """Holds `seats` on a day the reservation is not on yet. Its release is queued first, so a
        lost answer, a crash or a failed write still gives the seats back; the reservation's own
        write withdraws it. A failure in the block gives the seats back. Raises what the hold raises."""

    def resized(
        self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int, was: int
    ) -> AbstractAsyncContextManager[Hold]:
        """Sets the hold of the reservation's own day to `seats`; a failure (in the block, or an
        ambiguous one of the hold) puts it back to `was`."""

    async def restore(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int) -> None:
        """Puts a hold taken in error back to `seats` (0: gives it back). Runs to the end even if
        the caller is cancelled; failures are logged."""

    async def release_queued(self, reservation_id: uuid.UUID) -> None:
        """After a committed cancel or re-date: gives back what it queued, now if trip-catalog
        answers, else later. Never raises."""
