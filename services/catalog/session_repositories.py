"""Repositories of activities, sessions and extras over db.py's tables. Statements are built once:
at import, or once per shape of a listing's filters (cached), and run with parameters."""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.catalog.commands import ListSessions
from services.catalog.db import SESSION_SEATS, activities, extras, sessions
from services.catalog.domain import Activity, Extra, Session, SessionStatus
from services.catalog.holds import first_hold
from services.chassis.db import newest_first_pages, page_params
from services.chassis.money import quantize

s = sessions
_SCHEDULED = s.c.status == SessionStatus.SCHEDULED.value
_TIME = sa.DateTime(timezone=True)
_INSERT_ACTIVITY, _INSERT_SESSION, _INSERT_EXTRA = sa.insert(activities), sa.insert(sessions), sa.insert(extras)
_GET_ACTIVITY = sa.select(activities).where(activities.c.activity_id == sa.bindparam("g_id"))
_GET_SESSION = sa.select(s).where(s.c.session_id == sa.bindparam("g_id"))
_LOCK_SESSION = _GET_SESSION.with_for_update()
_SET_BOOKED = sa.update(s).where(s.c.session_id == sa.bindparam("b_id")).values(booked=sa.bindparam("b_booked"))
_EXTRAS = (
    sa.select(extras)
    .where(extras.c.activity_id == sa.bindparam("g_id"))
    .order_by(extras.c.created_at, extras.c.extra_id)
)
_ACTIVITY_PAGES = {
    False: newest_first_pages(sa.select(activities), activities.c.created_at, activities.c.activity_id),
    True: newest_first_pages(
        sa.select(activities).where(activities.c.company_id == sa.bindparam("f_company")),
        activities.c.created_at,
        activities.c.activity_id,
    ),
}
_NOW = sa.bindparam("f_now", type_=_TIME)
_ANY_ENDED = sa.select(sa.exists().where(_SCHEDULED, s.c.end_time <= _NOW))
# Claims: a row another process has locked (finishing it) is skipped, so no session is finished,
# and its event written, twice; status is checked again on the row as locked.
_DUE = sa.select(s.c.session_id).where(_SCHEDULED, s.c.end_time <= _NOW).order_by(s.c.end_time)
_DUE = _DUE.limit(sa.bindparam("f_batch")).with_for_update(skip_locked=True)
_FINISH = sa.update(s).where(s.c.session_id.in_(_DUE), _SCHEDULED).values(status=SessionStatus.FINISHED.value)
_FINISH = _FINISH.returning(*s.c)


def _session_hold_first() -> sa.Select:
    """The first hold of a booking on a scheduled session that has not started (holds.first_hold)."""
    conditions = [
        s.c.session_id == sa.bindparam("hold_session", type_=s.c.session_id.type),
        _SCHEDULED,
        s.c.start_time > sa.bindparam("hold_now", type_=_TIME),
    ]
    taken, hold = first_hold(SESSION_SEATS, conditions)
    return sa.select(*taken.c).add_cte(hold)


_HOLD_FIRST = _session_hold_first()


@functools.cache
def _sessions_page(company: bool, activity: bool, after: bool, before: bool, positioned: bool) -> sa.Select:
    """Sessions by (start_time, session_id) ascending, limit + 1, for one shape of the filters."""
    query = sa.select(s)
    if company:
        query = query.where(s.c.company_id == sa.bindparam("f_company", type_=s.c.company_id.type))
    if activity:
        query = query.where(s.c.activity_id == sa.bindparam("f_activity", type_=s.c.activity_id.type))
    if after:
        query = query.where(s.c.start_time >= sa.bindparam("f_after", type_=_TIME))
    if before:
        query = query.where(s.c.start_time < sa.bindparam("f_before", type_=_TIME))
    if positioned:
        position = sa.tuple_(sa.bindparam("p_start", type_=_TIME), sa.bindparam("p_id", type_=s.c.session_id.type))
        query = query.where(sa.tuple_(s.c.start_time, s.c.session_id) > position)
    return query.order_by(s.c.start_time, s.c.session_id).limit(sa.bindparam("p_limit"))


def _session(row) -> Session:
    m = row._mapping
    return Session(**{**m, "status": SessionStatus(m["status"]), "price": quantize(m["price"], m["currency"])})


def _extra(row) -> Extra:
    extra = Extra(**row._mapping)
    return replace(extra, unit_price=quantize(extra.unit_price, extra.currency))


class ActivityRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, activity: Activity) -> None:
        await self.conn.execute(_INSERT_ACTIVITY, activity.__dict__)

    async def get(self, activity_id: uuid.UUID) -> Activity | None:
        row = (await self.conn.execute(_GET_ACTIVITY, {"g_id": activity_id})).first()
        return Activity(**row._mapping) if row else None

    async def page(self, company_id: uuid.UUID | None, position: list | None, limit: int) -> list[Activity]:
        first, after = _ACTIVITY_PAGES[company_id is not None]
        params = page_params(position, limit) | ({"f_company": company_id} if company_id else {})
        rows = (await self.conn.execute(after if position else first, params)).all()
        return [Activity(**r._mapping) for r in rows]


class SessionRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, session: Session) -> None:
        await self.conn.execute(_INSERT_SESSION, session.__dict__)

    async def get(self, session_id: uuid.UUID, for_update: bool = False) -> Session | None:
        """`for_update` locks the row: every hold on one session that is no first hold runs in turn."""
        row = (await self.conn.execute(_LOCK_SESSION if for_update else _GET_SESSION, {"g_id": session_id})).first()
        return _session(row) if row else None

    async def page(self, q: ListSessions, position: list | None, limit: int) -> list[Session]:
        filters: dict[str, Any] = {
            "f_company": q.company_id,
            "f_activity": q.activity_id,
            "f_after": q.start_after,
            "f_before": q.start_before,
        }
        if position is not None:
            filters |= {"p_start": datetime.fromisoformat(position[0]), "p_id": uuid.UUID(position[1])}
        params = {k: v for k, v in filters.items() if v is not None} | {"p_limit": limit + 1}
        query = _sessions_page(*(v is not None for v in list(filters.values())[:4]), position is not None)
        return [_session(r) for r in (await self.conn.execute(query, params)).all()]

    async def hold_first(self, session_id: uuid.UUID, booking_id: uuid.UUID, seats: int, now: datetime):
        """The common hold in one statement; None when any condition fails or a concurrent first
        hold of the same booking won (the caller's locked path then decides)."""
        params = {"hold_session": session_id, "hold_holder": booking_id, "hold_seats": seats, "hold_now": now}
        try:
            row = (await self.conn.execute(_HOLD_FIRST, params)).first()
        except IntegrityError:
            return None
        return _session(row) if row else None

    async def set_booked(self, session: Session) -> None:
        await self.conn.execute(_SET_BOOKED, {"b_id": session.session_id, "b_booked": session.booked})

    async def any_ended(self, now: datetime) -> bool:
        """Whether a scheduled session has ended by `now` (one index probe)."""
        return bool((await self.conn.execute(_ANY_ENDED, {"f_now": now})).scalar())

    async def finish_ended(self, now: datetime, batch: int) -> list[Session]:
        """Claims up to `batch` scheduled sessions ended by `now` (skipping rows another process is
        finishing) and marks them FINISHED; returns them as they are now."""
        rows = (await self.conn.execute(_FINISH, {"f_now": now, "f_batch": batch})).all()
        return [_session(r) for r in rows]


class ExtraRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, extra: Extra) -> None:
        await self.conn.execute(_INSERT_EXTRA, extra.__dict__)

    async def of_activity(self, activity_id: uuid.UUID) -> list[Extra]:
        return [_extra(r) for r in (await self.conn.execute(_EXTRAS, {"g_id": activity_id})).all()]
