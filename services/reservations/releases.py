"""The queue of seat releases (`seat_releases`) and its drain, which gives the seats back to
trip-catalog. A release is announced before a hold is taken (withdrawn by the reservation's own
write) and queued in the same statement as a cancel or a re-date, so an outage of trip-catalog,
of the database or of this process delays a release but never loses it.

A drain claims its rows in one statement, calls trip-catalog with no transaction open, and records
each outcome in its own statement, only if it still owns the claim. A failed row backs off on its
own (capped exponential), so it holds back no other."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.db import autocommit
from services.chassis.errors import Unavailable
from services.chassis.protoconv import utcnow
from services.reservations.db import QUEUED, due_now, keys, queued_release, reservations, seat_releases
from services.reservations.ports import SeatInventory

log = logging.getLogger("novatrek.reservations.releases")
_t, _bp = seat_releases, sa.bindparam
_UNCLAIMED = {"claim_id": sa.null(), "claimed_until": sa.null()}


def _announce_statement() -> sa.Insert:
    """Takes over a row of the same (reservation, day) only while no drain has claimed it: a
    release in progress must end before the hold it would undo is taken. RETURNING says whether a
    row was there (xmax is set on an updated row); no row: it is claimed."""
    row = {name: _bp(f"announce_{name}", type_=_t.c[name].type) for name in QUEUED}
    statement = pg_insert(_t).values(row)
    fresh = {
        "trip_id": statement.excluded.trip_id,
        "due_at": statement.excluded.due_at,
        "attempts": sa.literal_column("0"),
    }
    return statement.on_conflict_do_update(
        index_elements=["reservation_id", "trip_date"],
        set_={**fresh, "last_error": sa.null(), **_UNCLAIMED},
        where=sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < _bp("announce_now", type_=_t.c.due_at.type)),
    ).returning(sa.literal_column("xmax <> 0").label("replaced"))


ANNOUNCE = _announce_statement()  # built once, run with announce_params (also by the benchmark's pg_txn)


def announce_params(
    reservation_id: uuid.UUID, day: date, trip_id: uuid.UUID, due: datetime, now: datetime | None = None
) -> dict:
    row = queued_release(reservation_id, day, trip_id, due)
    return {"announce_now": now or utcnow(), **{f"announce_{k}": v for k, v in row.items()}}


def _claim_statement(one_reservation: bool) -> sa.Update:
    """Claims due, unclaimed rows (those another transaction is writing are skipped), and says for
    each whether its reservation lives on that trip and day: then its hold is needed and the
    release is out of date (the reservation was re-dated back, or written after all by a retry)."""
    q, now = _t.alias("queued"), _bp("claim_now", type_=_t.c.due_at.type)
    pick = sa.select(q.c.reservation_id, q.c.trip_date).where(
        q.c.due_at <= now, sa.or_(q.c.claimed_until.is_(None), q.c.claimed_until < now)
    )
    if one_reservation:
        pick = pick.where(q.c.reservation_id == _bp("claim_reservation", type_=q.c.reservation_id.type))
    due = pick.order_by(q.c.due_at).limit(_bp("claim_batch")).with_for_update(skip_locked=True).subquery("due")
    r = reservations
    live = (
        sa.exists()
        .select_from(
            keys.join(r, sa.and_(keys.c.reservation_id == r.c.reservation_id, keys.c.created_at == r.c.created_at))
        )
        .where(keys.c.reservation_id == _t.c.reservation_id, r.c.status != "cancelled")
        .where(r.c.trip_id == _t.c.trip_id, r.c.trip_date == _t.c.trip_date)
    )
    return (
        sa.update(_t)
        .where(_t.c.reservation_id == due.c.reservation_id, _t.c.trip_date == due.c.trip_date)
        .values(claim_id=_bp("claim_token", type_=_t.c.claim_id.type), claimed_until=_bp("claim_until", type_=now.type))
        .returning(_t.c.reservation_id, _t.c.trip_date, _t.c.trip_id, _t.c.attempts, live.label("live"))
    )


CLAIM = {one: _claim_statement(one) for one in (False, True)}
_OWNED = sa.and_(
    _t.c.reservation_id == _bp("row_reservation", type_=_t.c.reservation_id.type),
    _t.c.trip_date == _bp("row_day", type_=_t.c.trip_date.type),
    _t.c.claim_id == _bp("row_claim", type_=_t.c.claim_id.type),
)
_DONE = sa.delete(_t).where(_OWNED)
_FAILED = (
    sa.update(_t)
    .where(_OWNED)
    .values(
        attempts=_t.c.attempts + 1,
        last_error=_bp("row_error", type_=sa.Text),
        due_at=_bp("row_retry_at", type_=_t.c.due_at.type),
        **_UNCLAIMED,
    )
)
_WITHDRAW = sa.delete(_t).where(
    _t.c.reservation_id == _bp("row_reservation", type_=_t.c.reservation_id.type),
    _t.c.trip_date == _bp("row_day", type_=_t.c.trip_date.type),
)
_DUE_NOW = due_now(pg_insert(_t).values({k: _bp(f"row_{k}", type_=_t.c[k].type) for k in QUEUED}))


class SeatReleaser:
    """The release queue (ports.ReleaseQueue) over PostgreSQL and trip-catalog.

    `grace_s`: how long an announced hold waits for its reservation before it counts as left behind
    (longer than a create can take: its calls are bounded by the outbound timeout). `lease_s`: how
    long a drain owns the rows it claimed; longer than a release call's deadline (the outbound
    timeout), so a claim cannot end while its call may still act. `announce_wait_s`: how long an
    announcement waits for such a release to end before it answers UNAVAILABLE."""

    def __init__(
        self,
        engine: AsyncEngine,
        seats: SeatInventory,
        *,
        interval_s: float = 2.0,
        batch: int = 20,
        grace_s: float = 60.0,
        lease_s: float = 30.0,
        announce_wait_s: float = 3.0,
        max_backoff_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.seats, self.interval_s, self.batch = engine, seats, interval_s, batch
        self.grace_s, self.lease_s, self.announce_wait_s = grace_s, lease_s, announce_wait_s
        self.max_backoff_s, self.clock = max_backoff_s, clock

    async def announce(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> bool:
        """Queues the release of a hold about to be taken, due after the grace period unless the
        reservation's write withdraws it; True when it replaced a release queued earlier (an
        earlier attempt's, or that day's own from a re-date). A release of it in progress is waited
        for (UNAVAILABLE after `announce_wait_s`), so no release can undo the coming hold."""
        pause, waited = 0.02, 0.0
        while True:
            now = self.clock()
            params = announce_params(reservation_id, day, trip_id, now + timedelta(seconds=self.grace_s), now)
            async with autocommit(self.engine) as conn:
                replaced = (await conn.execute(ANNOUNCE, params)).scalar()
            if replaced is not None:
                return replaced
            if waited >= self.announce_wait_s:
                raise Unavailable(
                    "the seats of this reservation are being released; retry", reason="SEAT_RELEASE_IN_PROGRESS"
                )
            await asyncio.sleep(pause)
            waited, pause = waited + pause, min(pause * 2, 0.25)

    async def withdraw(self, reservation_id: uuid.UUID, day: date) -> None:
        """Drops the announcement of a hold that was refused."""
        async with autocommit(self.engine) as conn:
            await conn.execute(_WITHDRAW, {"row_reservation": reservation_id, "row_day": day})

    async def due_now(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """Makes the release of that day's hold due now (queued if it was not)."""
        row = queued_release(reservation_id, day, trip_id, self.clock())
        async with autocommit(self.engine) as conn:
            await conn.execute(_DUE_NOW, {f"row_{k}": v for k, v in row.items()})

    async def release_now(self, reservation_id: uuid.UUID) -> None:
        """Best effort, right after a commit: what fails stays queued for `run`."""
        try:
            await self._drain(reservation_id)
        except Exception as exc:
            log.warning("seat release deferred", extra={"reservation_id": str(reservation_id), "error": repr(exc)})

    async def run(self) -> None:
        pause = self.interval_s
        while True:
            try:
                await self._drain()
                pause = self.interval_s
            except Exception as exc:  # the database: a failed release is recorded on its row
                log.warning("seat releases pending", extra={"error": repr(exc)})
                pause = min(pause * 2, 30.0)
            await asyncio.sleep(pause)

    async def _drain(self, reservation_id: uuid.UUID | None = None) -> int:
        now, token = self.clock(), uuid.uuid4()
        params = {"claim_now": now, "claim_token": token, "claim_until": now + timedelta(seconds=self.lease_s)}
        params |= {"claim_batch": self.batch, "claim_reservation": reservation_id}
        async with autocommit(self.engine) as conn:
            rows = (await conn.execute(CLAIM[reservation_id is not None], params)).all()
        # every call starts now and ends within its deadline, well inside the claim
        await asyncio.gather(*(self._settle(row, token) for row in rows))
        return len(rows)

    async def _settle(self, row, token: uuid.UUID) -> None:
        owned = {"row_reservation": row.reservation_id, "row_day": row.trip_date, "row_claim": token}
        statement: sa.Executable
        try:
            if not row.live:
                await self.seats.release(row.trip_id, row.trip_date, row.reservation_id)
            statement = _DONE
        except Exception as exc:
            log.warning("seat release failed", extra={"reservation_id": str(row.reservation_id), "error": repr(exc)})
            backoff = min(self.interval_s * 2 ** min(row.attempts, 16), self.max_backoff_s)
            owned |= {"row_error": repr(exc)[:500], "row_retry_at": self.clock() + timedelta(seconds=backoff)}
            statement = _FAILED
        async with autocommit(self.engine) as conn:
            await conn.execute(statement, owned)
