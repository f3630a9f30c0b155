"""The seat-hold lifecycle (ports.SeatHolds) over trip-catalog and the release queue: every way a
hold can be left behind (a lost answer, a crash, a failed or cancelled write) ends with its seats
given back, and a business refusal leaves nothing queued."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date

from services.chassis.errors import DeadlineExceeded, DomainError, Unavailable
from services.reservations.ports import Hold, ReleaseQueue, SeatInventory

log = logging.getLogger("novatrek.reservations.holds")


def _ambiguous(exc: BaseException) -> bool:
    """A failure that does not prove the remote call had no effect (down, cut, timed out, cancelled)."""
    return not isinstance(exc, DomainError) or isinstance(exc, (Unavailable, DeadlineExceeded))


async def _compensate(step: Callable[[], Awaitable[object]], what: str) -> None:
    """Runs a compensation to the end even if our caller is cancelled; failures are logged."""
    try:
        await asyncio.shield(asyncio.ensure_future(step()))
    except Exception as exc:
        log.error("compensation failed", extra={"step": what, "error": repr(exc)})


class SeatHoldsOverQueue:
    def __init__(self, seats: SeatInventory, queue: ReleaseQueue) -> None:
        self.seats, self.queue = seats, queue

    @asynccontextmanager
    async def taken(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int) -> AsyncIterator[Hold]:
        replaced = await self.queue.announce(trip_id, day, reservation_id)
        give_back = lambda: self._give_back(trip_id, day, reservation_id)  # noqa: E731
        try:
            hold = await self.seats.hold(trip_id, day, reservation_id, seats)
        except BaseException as exc:
            # it may hold seats: its answer was lost, or an earlier attempt's hold is still there
            if _ambiguous(exc) or replaced:
                await _compensate(give_back, "release seats")
            else:  # a business answer (SOLD_OUT, …): nothing was held
                await _compensate(lambda: self.queue.withdraw(reservation_id, day), "withdraw announced release")
            raise
        try:
            yield hold
        except BaseException:
            await _compensate(give_back, "release seats")
            raise

    @asynccontextmanager
    async def resized(
        self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int, was: int
    ) -> AsyncIterator[Hold]:
        restore = lambda: self.seats.hold(trip_id, day, reservation_id, was)  # noqa: E731
        try:
            hold = await self.seats.hold(trip_id, day, reservation_id, seats)
        except BaseException as exc:
            if _ambiguous(exc):
                await _compensate(restore, "restore hold")
            raise
        try:
            yield hold
        except BaseException:
            await _compensate(restore, "restore hold")
            raise

    async def restore(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int) -> None:
        if seats:
            await _compensate(lambda: self.seats.hold(trip_id, day, reservation_id, seats), "restore hold")
        else:
            await _compensate(lambda: self._give_back(trip_id, day, reservation_id), "release seats")

    async def release_queued(self, reservation_id: uuid.UUID) -> None:
        await self.queue.release_now(reservation_id)

    async def _give_back(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """Through the queue: kept if trip-catalog is down, and skipped if the reservation lives on
        that day after all (its write committed but the answer was lost)."""
        await self.queue.due_now(trip_id, day, reservation_id)
        await self.queue.release_now(reservation_id)
