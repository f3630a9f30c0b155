"""The billing and refund loops: each pass runs when woken (an event made work, after its commit) or
every interval, and drains batches until one comes back short (no empty work per request)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("novatrek.bookings.loops")
_SETTLE_S = 0.05  # a wake comes from inside the transaction that made the work: let it commit


class Loop:
    def __init__(self, name: str, one_pass: Callable[[], Awaitable[int]], interval_s: float, batch: int) -> None:
        self.name, self.one_pass, self.interval_s, self.batch = name, one_pass, interval_s, batch
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.interval_s)
                await asyncio.sleep(_SETTLE_S)
            self._woken.clear()
            try:
                while await self.one_pass() >= self.batch:
                    pass
            except Exception as exc:  # the database or a peer may be down: next time
                log.warning("loop pass failed", extra={"loop": self.name, "error": repr(exc)})
