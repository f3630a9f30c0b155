"""Where a caller waiting for a checkout's end hears of it, when the saga runs in this process (a
checkout run elsewhere is found by reading it again)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from services.checkout.domain import Checkout


class Outcomes:
    def __init__(self) -> None:
        self._waiting: dict[uuid.UUID, tuple[asyncio.Future[Checkout], int]] = {}

    @contextmanager
    def watching(self, checkout_id: uuid.UUID) -> Iterator[asyncio.Future[Checkout]]:
        """A future resolved with the checkout's end if it is settled here while the block runs.
        Watch before reading the checkout, so an end between the read and the wait is not missed."""
        future, watchers = self._waiting.get(checkout_id) or (asyncio.get_running_loop().create_future(), 0)
        self._waiting[checkout_id] = (future, watchers + 1)
        try:
            yield future
        finally:
            entry = self._waiting.get(checkout_id)
            if entry is not None and entry[0] is future:
                if entry[1] <= 1:
                    del self._waiting[checkout_id]
                else:
                    self._waiting[checkout_id] = (future, entry[1] - 1)

    def settle(self, checkout: Checkout) -> None:
        entry = self._waiting.pop(checkout.checkout_id, None)
        if entry is not None and not entry[0].done():
            entry[0].set_result(checkout)
