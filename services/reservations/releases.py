"""Gives seats back to trip-catalog. A release is queued in the same transaction as the cancel
(or re-date), so a trip-catalog outage delays it but never loses it."""

from __future__ import annotations

import asyncio
import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reservations.db import seat_releases
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

    async def _drain(self, where=sa.true()) -> int:
        t = seat_releases
        async with self.engine.begin() as conn:
            query = sa.select(t).where(where).order_by(t.c.created_at).limit(self.batch).with_for_update(skip_locked=True)
            rows = (await conn.execute(query)).all()
            for row in rows:
                key = sa.and_(t.c.reservation_id == row.reservation_id, t.c.trip_date == row.trip_date)
                try:
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
