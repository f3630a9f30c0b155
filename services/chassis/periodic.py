"""A background job that runs every `interval_s` and survives its own failures (logged)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("novatrek.periodic")

# What a service runs beside serving calls: a coroutine function, run as a task until stopped.
BackgroundJob = Callable[[], Coroutine[Any, Any, None]]


def periodically(job: Callable[[], Awaitable[object]], interval_s: float, name: str) -> BackgroundJob:
    async def loop() -> None:
        while True:
            try:
                await job()
            except Exception as exc:  # the database may be down: try again next time
                log.warning("periodic job failed", extra={"job": name, "error": repr(exc)})
            await asyncio.sleep(interval_s)

    return loop
