"""Where a caller waiting for the end of something keyed that runs elsewhere (a saga started by a twin
request) hears of it: at once when it ends in this process, by reading it again with backoff when
another process runs it, until its time is up (checkout's checkouts, bookings' bookings)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from services.chassis.context import remaining_time

T = TypeVar("T")
_POLL_S, _POLL_MAX_S, _MARGIN_S = 0.05, 1.0, 0.1


class Outcomes(Generic[T]):
    def __init__(self, key: Callable[[T], uuid.UUID]) -> None:
        self._key = key
        self._waiting: dict[uuid.UUID, tuple[asyncio.Future[T], int]] = {}

    @contextmanager
    def watching(self, ident: uuid.UUID) -> Iterator[asyncio.Future[T]]:
        """A future resolved with the end of `ident` if it is settled here while the block runs.
        Watch before reading it, so an end between the read and the wait is not missed."""
        future, watchers = self._waiting.get(ident) or (asyncio.get_running_loop().create_future(), 0)
        self._waiting[ident] = (future, watchers + 1)
        try:
            yield future
        finally:
            entry = self._waiting.get(ident)
            if entry is not None and entry[0] is future:
                if entry[1] <= 1:
                    del self._waiting[ident]
                else:
                    self._waiting[ident] = (future, entry[1] - 1)

    def settle(self, value: T) -> None:
        entry = self._waiting.pop(self._key(value), None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(value)


async def until_ended(
    read: Callable[[], Awaitable[T]], running: Callable[[T], bool], ended: asyncio.Future[T], wait_s: float
) -> T:
    """The thing once it ended (`ended`, or a read that finds it so), or as it stands when the caller's
    deadline is 100 ms away (`wait_s` without a deadline). Reads back off from 50 ms to 1 s."""
    left = remaining_time()
    until = time.monotonic() + (wait_s if left is None else left - _MARGIN_S)
    pause = _POLL_S
    while True:
        found = await read()
        if not running(found) or (left_s := until - time.monotonic()) <= 0:
            return found
        await asyncio.wait({ended}, timeout=min(pause, left_s))
        if ended.done():
            return ended.result()
        pause = min(pause * 2, _POLL_MAX_S)
