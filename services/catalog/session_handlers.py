"""Use cases of activities, sessions and extras: (command, uow factory) -> result; the session seat
holds (seat_holds, as departures') and the finish job."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.catalog.commands import CreateActivity, CreateExtra, CreateSession, HoldSessionSeats, ListSessions
from services.catalog.domain import Activity, Extra, Hold, Session, not_released
from services.catalog.events import session_finished
from services.catalog.seat_holds import hold_locked, release_locked
from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[Any]  # CatalogUnitOfWork in production, an in-memory fake in unit tests


async def _activity(uow, activity_id: uuid.UUID) -> Activity:
    activity: Activity | None = await uow.activities.get(activity_id)
    if activity is None:
        raise NotFound(f"activity {activity_id} not found", reason="ACTIVITY_NOT_FOUND")
    return activity


async def _session(uow, session_id: uuid.UUID, lock: bool = False) -> Session:
    session: Session | None = await uow.sessions.get(session_id, for_update=lock)
    if session is None:
        raise NotFound(f"session {session_id} not found", reason="SESSION_NOT_FOUND")
    return session


async def create_activity(cmd: CreateActivity, uow_factory: UowFactory) -> Activity:
    activity = Activity(cmd.company_id, cmd.name, utcnow(), cmd.category)
    async with uow_factory(autocommit=True) as uow:
        await uow.activities.add(activity)
    return activity


async def list_activities(
    company_id: uuid.UUID | None, position: list | None, limit: int, uow_factory: UowFactory
) -> tuple[list[Activity], list | None]:
    async with uow_factory(read_only=True) as uow:
        rows = await uow.activities.page(company_id, position, limit)
    return page_of(rows, limit, lambda a: [a.created_at.isoformat(), str(a.activity_id)])


async def create_session(cmd: CreateSession, uow_factory: UowFactory) -> Session:
    async with uow_factory(read_only=True) as uow:  # activities never change: no lock to keep
        activity = await _activity(uow, cmd.activity_id)
    session = Session(
        cmd.activity_id,
        activity.company_id,
        cmd.start_time,
        cmd.end_time,
        cmd.capacity,
        cmd.price,
        cmd.currency,
        utcnow(),
    )
    async with uow_factory(autocommit=True) as uow:
        await uow.sessions.add(session)
    return session


async def get_session(session_id: uuid.UUID, uow_factory: UowFactory) -> Session:
    async with uow_factory(read_only=True) as uow:
        return await _session(uow, session_id)


async def list_sessions(
    q: ListSessions, position: list | None, limit: int, uow_factory: UowFactory
) -> tuple[list[Session], list | None]:
    async with uow_factory(read_only=True) as uow:
        rows = await uow.sessions.page(q, position, limit)
    return page_of(rows, limit, lambda s: [s.start_time.isoformat(), str(s.session_id)])


async def create_extra(cmd: CreateExtra, uow_factory: UowFactory) -> Extra:
    extra = Extra(cmd.activity_id, cmd.name, cmd.unit_price, cmd.currency, utcnow())
    async with uow_factory(read_only=True) as uow:
        await _activity(uow, cmd.activity_id)
    async with uow_factory(autocommit=True) as uow:
        await uow.extras.add(extra)
    return extra


async def list_extras(activity_id: uuid.UUID, uow_factory: UowFactory) -> list[Extra]:
    async with uow_factory(read_only=True) as uow:
        await _activity(uow, activity_id)
        found: list[Extra] = await uow.extras.of_activity(activity_id)
    return found


@dataclass
class _SessionSeats:
    """A booking's seats on a session (seat_holds.SeatDesk): holds while scheduled and not started,
    releases leave tombstones."""

    uow: Any
    session_id: uuid.UUID
    booking_id: uuid.UUID
    now: datetime = field(default_factory=utcnow)

    async def find(self, lock: bool) -> Session:
        return await _session(self.uow, self.session_id, lock)

    async def held(self, place: Session) -> Hold:
        hold: Hold = await self.uow.session_holds.held(place.session_id, self.booking_id)
        return hold

    def check(self, place: Session, hold: Hold) -> None:
        not_released(hold, self.booking_id)
        place.bookable(self.now)

    async def store(self, place: Session, seats: int) -> None:
        await self.uow.sessions.set_booked(place)
        await self.uow.session_holds.put(place.session_id, self.booking_id, seats, self.now)

    async def release(self, place: Session) -> int:
        released: int = await self.uow.session_holds.tombstone(place.session_id, self.booking_id, self.now)
        return released

    async def set_held(self, place: Session) -> None:
        await self.uow.sessions.set_booked(place)


async def hold_session_seats(cmd: HoldSessionSeats, uow_factory: UowFactory) -> Session:
    """Sets the booking's hold to `cmd.seats`: a first hold that fits is one statement, anything
    else (a repeat, a resize, a refusal) is decided under the session's lock."""
    async with uow_factory(autocommit=True) as uow:
        taken: Session | None = await uow.sessions.hold_first(cmd.session_id, cmd.booking_id, cmd.seats, utcnow())
        if taken is not None:
            return taken
    async with uow_factory() as uow:
        return await hold_locked(_SessionSeats(uow, cmd.session_id, cmd.booking_id), cmd.seats)


async def release_session_seats(
    session_id: uuid.UUID, booking_id: uuid.UUID, uow_factory: UowFactory
) -> tuple[Session, int]:
    """Releases whatever the booking holds, on any session status; idempotent, and a booking that
    holds nothing is left a tombstone, so its hold arriving later is refused (HOLD_RELEASED)."""
    async with uow_factory() as uow:
        return await release_locked(_SessionSeats(uow, session_id, booking_id))


async def finish_ended_sessions(uow_factory: UowFactory, batch: int, clock: Callable[[], datetime] = utcnow) -> int:
    """Marks scheduled sessions whose end time passed FINISHED and publishes SessionFinished for each
    in the same transaction, `batch` at a time, claimed with SKIP LOCKED so processes racing never
    finish one twice. When nothing has ended this is one query. Returns how many it finished."""
    now, total = clock(), 0
    async with uow_factory(read_only=True) as uow:
        if not await uow.sessions.any_ended(now):
            return 0
    while True:
        async with uow_factory() as uow:
            finished: list[Session] = await uow.sessions.finish_ended(now, batch)
            for session in finished:
                uow.publish(session_finished(session, now), now)
        total += len(finished)
        if len(finished) < batch:
            return total
