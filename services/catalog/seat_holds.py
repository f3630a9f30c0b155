"""Holding and releasing seats of a place — a departure, a session — where the one-statement first
hold (holds.first_hold) did not answer: decided under the place's row lock, the same way whatever
the place. Each kind of place gives a `SeatDesk`: how to find it, read and write a holder's hold,
and what besides SOLD_OUT refuses a hold. Pure: the desks work through the unit of work."""

from __future__ import annotations

from typing import Protocol, TypeVar

from services.catalog.domain import Hold, Seats

P = TypeVar("P", bound=Seats)


class SeatDesk(Protocol[P]):
    """One holder's seats on one place, inside a unit of work."""

    async def find(self, lock: bool) -> P:
        """The place (NotFound when there is none); `lock` takes its row lock."""
        ...

    async def held(self, place: P) -> Hold: ...

    def check(self, place: P, hold: Hold) -> None:
        """Raises what refuses a change of this holder's hold, other than SOLD_OUT."""
        ...

    async def store(self, place: P, seats: int) -> None:
        """Writes the place's seats held and the holder's hold of `seats`."""
        ...

    async def release(self, place: P) -> int:
        """Removes the holder's hold (or leaves its tombstone); the seats it held."""
        ...

    async def set_held(self, place: P) -> None: ...


async def hold_locked(desk: SeatDesk[P], seats: int) -> P:
    """Sets the holder's hold to `seats`; the place's row lock serialises the holds that get here.

    Everything that can be decided without the lock is decided first: on a place in demand every
    statement run under the lock is waited for by every other hold (a storm of 300 bookings for 40
    seats queued seconds behind it). A hold that visibly cannot fit is refused from committed
    numbers, which a concurrent release can only make larger, so never at the cost of a seat. The
    answer (seats available) is always read under the lock. The same hold again changes nothing."""
    seen = await desk.find(lock=False)
    held = await desk.held(seen)
    if held.seats != seats:  # SOLD_OUT (or another refusal) without queueing for the lock
        desk.check(seen, held)
        seen.hold(held.seats, seats)
    place = await desk.find(lock=True)
    already = await desk.held(place)
    if already.seats != seats:
        desk.check(place, already)
        place = place.hold(already.seats, seats)
        await desk.store(place, seats)
    return place


async def release_locked(desk: SeatDesk[P]) -> tuple[P, int]:
    """Releases whatever the holder holds (idempotent): the place after it, and the seats released."""
    place = await desk.find(lock=True)
    released = await desk.release(place)
    if released:
        place = place.release(released)
        await desk.set_held(place)
    return place, released
