"""Gives seats back to trip-catalog. A release is queued in the same transaction as the cancel
(or re-date), or after a create that may have left a hold behind, so a trip-catalog outage delays
it but never loses it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.protoconv import utcnow
from services.reservations.db import reservations, seat_releases
from services.reservations.ports import SeatInventory

log = logging.getLogger("novatrek.reservations.releases")


class SeatReleaser:
    def __init__(self, engine: AsyncEngine, seats: SeatInventory, interval_s: float = 2.0, batch: int = 50) -> None:
        self.engine, self.seats, self.interval_s, self.batch = engine, seats, interval_s, batch

    async def release_now(self, reservation_id: uuid.UUID) -> None:
        """Best effort, right after the commit; what fails stays queued for `run`."""
        try:
            await self._drain(seat_releases.c.reservation_id == reservation_id)
        except Exception as exc:
            log.warning("seat release deferred", extra={"reservation_id": str(reservation_id), "error": repr(exc)})

    async def release_later(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        """A hold that may exist without its reservation (a create failed after, or while, holding):
        released at once if trip-catalog answers, else queued for `run`, so it is never left behind."""
        try:
            await self.seats.release(trip_id, day, reservation_id)
        except Exception as exc:
            log.warning("seat release queued", extra={"reservation_id": str(reservation_id), "error": repr(exc)})
            row = {"reservation_id": reservation_id, "trip_date": day, "trip_id": trip_id, "created_at": utcnow(), "attempts": 0}
            async with self.engine.begin() as conn:
                await conn.execute(pg_insert(seat_releases).values(row).on_conflict_do_nothing())

    async def _drain(self, where=sa.true()) -> int:
        t = seat_releases
        async with self.engine.begin() as conn:
            query = sa.select(t).where(where).order_by(t.c.created_at).limit(self.batch).with_for_update(skip_locked=True)
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
    query = sa.select(r.c.reservation_id).where(r.c.reservation_id == reservation_id, r.c.trip_date == day, r.c.status != "cancelled")
    return (await conn.execute(query)).first() is not None


class PartitionMaintainer:
    """Keeps monthly partitions of reservations.reservations created ahead of time."""

    def __init__(self, engine: AsyncEngine, months_ahead: int = 3, interval_s: float = 6 * 3600) -> None:
        self.engine, self.months_ahead, self.interval_s = engine, months_ahead, interval_s

    async def ensure(self) -> int:
        async with self.engine.begin() as conn:
            return (await conn.execute(sa.text("SELECT reservations.ensure_monthly_partitions(:n)"), {"n": self.months_ahead})).scalar_one()

    async def run(self) -> None:
        while True:
            try:
                if created := await self.ensure():
                    log.info("partitions created", extra={"count": created})
            except Exception as exc:
                log.warning("partition maintenance failed; will retry", extra={"error": repr(exc)})
            await asyncio.sleep(self.interval_s)
