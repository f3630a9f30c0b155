"""Gives seats back to trip-catalog. A release is queued in the same transaction as the cancel
(or re-date), and before a create takes its hold (withdrawn when the reservation is written), so
an outage of trip-catalog, of the database or of this process delays a release but never loses it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.db import autocommit
from services.chassis.protoconv import utcnow
from services.reservations.db import reservations, seat_releases
from services.reservations.ports import SeatInventory

log = logging.getLogger("novatrek.reservations.releases")


def _announce_statement() -> sa.Insert:
    row = {c.key: sa.bindparam(f"announce_{c.key}", type_=c.type) for c in seat_releases.c}
    statement = pg_insert(seat_releases).values(row)
    return statement.on_conflict_do_update(
        index_elements=["reservation_id", "trip_date"],
        set_={"trip_id": statement.excluded.trip_id, "created_at": statement.excluded.created_at},
    )


ANNOUNCE = _announce_statement()  # built once, run with announce_params (also by the benchmark's pg_txn)


def announce_params(reservation_id: uuid.UUID, day: date, trip_id: uuid.UUID, due: datetime) -> dict:
    row = {"reservation_id": reservation_id, "trip_date": day, "trip_id": trip_id, "created_at": due, "attempts": 0}
    return {f"announce_{k}": v for k, v in row.items()}


_EVERY_ROW = sa.true()


class SeatReleaser:
    """`grace_s`: how long an announced hold waits for its reservation before it counts as left
    behind (longer than a create can take: its calls are bounded by the outbound timeout)."""

    def __init__(
        self, engine: AsyncEngine, seats: SeatInventory, interval_s: float = 2.0, batch: int = 50, grace_s: float = 60.0
    ) -> None:
        self.engine, self.seats, self.interval_s, self.batch, self.grace_s = engine, seats, interval_s, batch, grace_s

    async def release_now(self, reservation_id: uuid.UUID) -> None:
        """Best effort, right after the commit; what fails stays queued for `run`."""
        try:
            await self._drain(seat_releases.c.reservation_id == reservation_id)
        except Exception as exc:
            log.warning("seat release deferred", extra={"reservation_id": str(reservation_id), "error": repr(exc)})

    async def announce(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """Queues the release of a hold about to be taken, due after the grace period unless the
        reservation's insert withdraws it. Replaces what an earlier attempt with this id left, and
        waits for a release of it in progress, so no release can undo the coming hold."""
        async with autocommit(self.engine) as conn:
            await conn.execute(
                ANNOUNCE, announce_params(reservation_id, day, trip_id, utcnow() + timedelta(seconds=self.grace_s))
            )

    async def release_announced(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """A create failed after announcing its hold: released at once if trip-catalog answers;
        else the announcement is made due now, and `run` releases it when it can."""
        key = sa.and_(seat_releases.c.reservation_id == reservation_id, seat_releases.c.trip_date == day)
        try:
            await self.seats.release(trip_id, day, reservation_id)
            change = sa.delete(seat_releases).where(key)
        except Exception as exc:
            log.warning("seat release queued", extra={"reservation_id": str(reservation_id), "error": repr(exc)})
            change = sa.update(seat_releases).where(key).values(created_at=utcnow())
        async with autocommit(self.engine) as conn:
            await conn.execute(change)

    async def withdraw(self, reservation_id: uuid.UUID, day: date | None = None) -> None:
        """Drops the announcement of a hold that was refused (on `day`, or any day)."""
        key = seat_releases.c.reservation_id == reservation_id
        async with autocommit(self.engine) as conn:
            await conn.execute(
                sa.delete(seat_releases).where(key if day is None else sa.and_(key, seat_releases.c.trip_date == day))
            )

    async def _drain(self, where: sa.ColumnElement[bool] = _EVERY_ROW) -> int:
        t = seat_releases
        async with self.engine.begin() as conn:
            due = sa.and_(where, t.c.created_at <= utcnow())  # an announced hold is due after its grace period
            query = sa.select(t).where(due).order_by(t.c.created_at).limit(self.batch).with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            for row in rows:
                key = sa.and_(t.c.reservation_id == row.reservation_id, t.c.trip_date == row.trip_date)
                try:
                    if not await _holds_seats(conn, row.reservation_id, row.trip_date):
                        await self.seats.release(row.trip_id, row.trip_date, row.reservation_id)
                except Exception:
                    await conn.execute(sa.update(t).where(key).values(attempts=t.c.attempts + 1))
                    raise
                await conn.execute(sa.delete(t).where(key))
        return len(rows)

    async def run(self) -> None:
        backoff = self.interval_s
        while True:
            try:
                await self._drain()
                backoff = self.interval_s
            except Exception as exc:
                log.warning("seat releases pending", extra={"error": repr(exc)})
                backoff = min(backoff * 2, 30.0)
            await asyncio.sleep(backoff)


async def _holds_seats(conn, reservation_id: uuid.UUID, day: date) -> bool:
    """A live reservation on that day needs its hold: a queued release of it is out of date (the
    reservation was re-dated back, or made after all by a retry of its request)."""
    r = reservations
    query = sa.select(r.c.reservation_id).where(
        r.c.reservation_id == reservation_id, r.c.trip_date == day, r.c.status != "cancelled"
    )
    return (await conn.execute(query)).first() is not None


class PartitionMaintainer:
    """Keeps monthly partitions of reservations.reservations created ahead of time."""

    def __init__(self, engine: AsyncEngine, months_ahead: int = 3, interval_s: float = 6 * 3600) -> None:
        self.engine, self.months_ahead, self.interval_s = engine, months_ahead, interval_s

    async def ensure(self) -> int:
        async with self.engine.begin() as conn:
            return (
                await conn.execute(
                    sa.text("SELECT reservations.ensure_monthly_partitions(:n)"), {"n": self.months_ahead}
                )
            ).scalar_one()

    async def run(self) -> None:
        while True:
            try:
                if created := await self.ensure():
                    log.info("partitions created", extra={"count": created})
            except Exception as exc:
                log.warning("partition maintenance failed; will retry", extra={"error": repr(exc)})
            await asyncio.sleep(self.interval_s)
