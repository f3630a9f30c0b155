"""The port through which handlers open units of work. Pure: handlers use it without SQLAlchemy."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar

U_co = TypeVar("U_co", covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """Opens a unit of work (db.UnitOfWork in services, an in-memory fake in unit tests): a
    transaction, or with `read_only` / `autocommit` one statement at a time (see db.UnitOfWork)."""

    def __call__(self, *, read_only: bool = False, autocommit: bool = False) -> AbstractAsyncContextManager[U_co]: ...
