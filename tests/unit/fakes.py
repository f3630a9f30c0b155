"""What the in-memory fakes of every context share: a unit of work with the SQLAlchemy one's
transaction semantics, and the keyset page of `services.chassis.db.newest_first`."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import datetime


class FakeUnitOfWork:
    """One transaction over an in-memory store. Changes go to a copy that replaces the store on a
    clean exit, so an error leaves nothing behind. `read_only`/`autocommit` units work on the store
    itself, as each of their statements commits on its own. Subclasses bind repositories in `bind`."""

    def __init__(self, store, read_only: bool = False, autocommit: bool = False) -> None:
        self.store, self.autocommit = store, read_only or autocommit

    @classmethod
    def factory(cls, store) -> Callable[..., FakeUnitOfWork]:
        """The `uow_factory` handlers take: `factory()`, `factory(read_only=True)`, ..."""
        return lambda **options: cls(store, **options)

    def bind(self, store) -> None:
        """Create the context's repositories on `store`."""

    async def __aenter__(self):
        self.work = self.store if self.autocommit else copy.deepcopy(self.store)
        self.bind(self.work)
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and not self.autocommit:
            self.store.__dict__.update(self.work.__dict__)


def newest_first(rows, created: Callable, ident: Callable, position: list | None, limit: int) -> list:
    """Rows ordered by (created, id) descending, after `position` ([created ISO, id string]), limit + 1."""
    ordered = sorted(rows, key=lambda r: (created(r), ident(r)), reverse=True)
    if position is not None:
        after = (datetime.fromisoformat(position[0]), uuid.UUID(position[1]))
        ordered = [r for r in ordered if (created(r), ident(r)) < after]
    return ordered[: limit + 1]
