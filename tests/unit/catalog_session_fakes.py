"""In-memory fakes of the catalog's activity, session, extra and session-hold repositories, with the
schema's constraints (0 <= booked <= capacity, a hold row per booking, tombstones with 0 seats)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.catalog.commands import ListSessions
from services.catalog.domain import NO_HOLD, Activity, Extra, Hold, Session, SessionStatus
from tests.unit.fakes import newest_first


def _violated(constraint: str) -> IntegrityError:
    return IntegrityError(f"violates {constraint}", None, Exception(constraint))


class FakeActivities:
    def __init__(self, store) -> None:
        self.s = store

    async def add(self, activity: Activity) -> None:
        self.s.activities[activity.activity_id] = activity

    async def get(self, activity_id: uuid.UUID) -> Activity | None:
        return self.s.activities.get(activity_id)

    async def page(self, company_id: uuid.UUID | None, position: list | None, limit: int) -> list[Activity]:
        mine = [a for a in self.s.activities.values() if company_id is None or a.company_id == company_id]
        return newest_first(mine, lambda a: a.created_at, lambda a: a.activity_id, position, limit)


class FakeSessions:
    def __init__(self, store) -> None:
        self.s = store

    async def add(self, session: Session) -> None:
        if session.activity_id not in self.s.activities:
            raise _violated("sessions_activity_id_fkey")
        self.s.sessions[session.session_id] = session

    async def get(self, session_id: uuid.UUID, for_update: bool = False) -> Session | None:
        self.s.locked.append(for_update)
        return self.s.sessions.get(session_id)

    async def page(self, q: ListSessions, position: list | None, limit: int) -> list[Session]:
        def key(s: Session) -> tuple[datetime, uuid.UUID]:
            return s.start_time, s.session_id

        found = sorted(
            (
                s
                for s in self.s.sessions.values()
                if (q.company_id is None or s.company_id == q.company_id)
                and (q.activity_id is None or s.activity_id == q.activity_id)
                and (q.start_after is None or s.start_time >= q.start_after)
                and (q.start_before is None or s.start_time < q.start_before)
            ),
            key=key,
        )
        if position is not None:
            after = (datetime.fromisoformat(position[0]), uuid.UUID(position[1]))
            found = [s for s in found if key(s) > after]
        return found[: limit + 1]

    async def hold_first(self, session_id: uuid.UUID, booking_id: uuid.UUID, seats: int, now: datetime):
        """One statement: None unless the session is scheduled, not started, the seats fit and the
        booking has no row (hold or tombstone) there."""
        session = self.s.sessions.get(session_id)
        if seats <= 0 or session is None or session.status is not SessionStatus.SCHEDULED:
            return None
        if session.start_time <= now or not session.can_hold(seats) or (session_id, booking_id) in self.s.session_holds:
            return None
        taken = replace(session, booked=session.booked + seats)
        await self.set_booked(taken)
        self.s.session_holds[(session_id, booking_id)] = Hold(seats)
        return taken

    async def set_booked(self, session: Session) -> None:
        if not 0 <= session.booked <= session.capacity:
            raise _violated("ck_sessions_booked")
        self.s.sessions[session.session_id] = replace(self.s.sessions[session.session_id], booked=session.booked)

    async def any_ended(self, now: datetime) -> bool:
        self.s.probes += 1
        return any(s.status is SessionStatus.SCHEDULED and s.end_time <= now for s in self.s.sessions.values())

    async def finish_ended(self, now: datetime, batch: int) -> list[Session]:
        due = sorted(
            (s for s in self.s.sessions.values() if s.status is SessionStatus.SCHEDULED and s.end_time <= now),
            key=lambda s: s.end_time,
        )[:batch]
        for s in due:
            self.s.sessions[s.session_id] = s.finished()
        return [s.finished() for s in due]


class FakeExtras:
    def __init__(self, store) -> None:
        self.s = store

    async def add(self, extra: Extra) -> None:
        if extra.activity_id not in self.s.activities:
            raise _violated("extras_activity_id_fkey")
        self.s.extras[extra.extra_id] = extra

    async def of_activity(self, activity_id: uuid.UUID) -> list[Extra]:
        mine = [e for e in self.s.extras.values() if e.activity_id == activity_id]
        return sorted(mine, key=lambda e: (e.created_at, e.extra_id))


class FakeSessionHolds:
    def __init__(self, store) -> None:
        self.s = store

    async def held(self, session_id: uuid.UUID, booking_id: uuid.UUID) -> Hold:
        return self.s.session_holds.get((session_id, booking_id), NO_HOLD)

    async def put(self, session_id: uuid.UUID, booking_id: uuid.UUID, seats: int, now: datetime) -> None:
        if seats <= 0:
            raise _violated("ck_session_holds_seats")
        self.s.session_holds[(session_id, booking_id)] = Hold(seats)

    async def tombstone(self, session_id: uuid.UUID, booking_id: uuid.UUID, now: datetime) -> int:
        held = (await self.held(session_id, booking_id)).seats
        self.s.session_holds[(session_id, booking_id)] = Hold(0, released=True)
        return held
