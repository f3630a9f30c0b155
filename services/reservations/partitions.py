"""Keeps monthly partitions of reservations.reservations created ahead of time."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("novatrek.reservations.partitions")


class PartitionMaintainer:
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
