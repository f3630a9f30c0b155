"""SQLAlchemy 2 async engine and the unit of work every handler writes through."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVarTuple

import asyncpg
import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from services.chassis import errors
from services.chassis.config import ServiceSettings
from services.chassis.metrics import count_database_work
from services.chassis.outbox import OutboxRelay, outbox_row


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    # QueuePool keeps db_pool_min connections and grows to db_pool_max under load; connections
    # are recycled after the idle timeout. No pre-ping by default (a round trip per checkout): after
    # a database restart the first statement on a stale connection fails as UNAVAILABLE, and that
    # error makes SQLAlchemy renew every connection older than it (see docs/reliability.md).
    engine = create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_min,
        max_overflow=max(0, settings.db_pool_max - settings.db_pool_min),
        pool_recycle=settings.db_pool_idle_timeout_s,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={"timeout": 5, "command_timeout": 30, "server_settings": {"timezone": "UTC"}},
    )
    count_database_work(engine)
    return engine


class UnitOfWork:
    """One transaction. Events published through it are outbox rows in the same transaction; the
    relay is woken only after the commit. Subclasses bind their repositories in `bind`.

    `autocommit` (and `read_only`) units run each statement on its own, with no BEGIN/COMMIT round
    trips: for reads, and for a write that is one statement (atomic by itself), which then writes
    its events itself with rows from `event_row`."""

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: sa.Table | None,
        source: str,
        relay: OutboxRelay | None = None,
        read_only: bool = False,
        autocommit: bool = False,
    ) -> None:
        self.engine, self.outbox, self.source, self.relay = engine, outbox, source, relay
        self.autocommit = read_only or autocommit
        self._events: list[dict[str, Any]] = []
        self._wrote_events = False
        self.conn: AsyncConnection

    def bind(self, conn: AsyncConnection) -> None:
        """Create the context's repositories on `conn`."""

    def publish(self, event: Message, occurred: datetime) -> None:
        if self.autocommit:
            raise RuntimeError(
                "an autocommit unit of work has no commit to add events to: write event_row() in the statement"
            )
        if self.outbox is None:
            raise RuntimeError(f"{self.source} has no outbox table to publish events through")
        self._events.append(outbox_row(event, self.source, occurred))

    def event_row(self, event: Message, occurred: datetime) -> dict[str, Any]:
        """The outbox row of an event that the caller's own statement inserts (autocommit units)."""
        self._wrote_events = True
        return outbox_row(event, self.source, occurred)

    async def __aenter__(self) -> Self:
        self.conn = await self.engine.connect()
        if self.autocommit:
            await self.conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            await self.conn.begin()
        self._events, self._wrote_events = [], False
        self.bind(self.conn)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.autocommit:
                pass  # every statement committed itself
            elif exc_type is None:
                if self._events and self.outbox is not None:  # publish() refuses events without an outbox
                    await self.conn.execute(sa.insert(self.outbox), self._events)
                    self._wrote_events = True
                await self.conn.commit()
            else:
                await self.conn.rollback()
        finally:
            await self.conn.close()
        if exc_type is None and self._wrote_events and self.relay is not None:
            self.relay.kick()


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection on which each statement commits by itself: one round trip for a one-statement
    write, instead of three with BEGIN and COMMIT."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


# The server went away or cannot take connections yet (restart, failover, cut network): class 08,
# admin/crash shutdown and "cannot connect now" (57P01-03); a cancelled statement (57014) is not one.
_LOST = (
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


def database_unavailable(exc: BaseException) -> errors.Unavailable | None:
    """The UNAVAILABLE (retry later) that a lost or refused database connection is for a caller,
    instead of INTERNAL: a database restart is an outage, not a bug. None for any other error."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:  # SQLAlchemy wraps the driver's error: look along the whole chain
        e = pending.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, _LOST) or (isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated):
            return errors.Unavailable("the database is unavailable; retry later", reason="DATABASE_UNAVAILABLE")
        pending += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return None


async def database_reachable(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
    return True


Ts = TypeVarTuple("Ts")


def newest_first(
    query: sa.Select[*Ts], created: sa.Column[Any], ident: sa.Column[Any], position: Sequence[Any] | None, limit: int
) -> sa.Select[*Ts]:
    """Keyset page ordered by (created, id) descending; `position` is the last row of the previous
    page as [created ISO string, id string]. Fetches limit + 1 rows to know whether more exist.
    The LIMIT is written into the SQL (`_page_limit`)."""
    if position is not None:
        after_created, after_id = datetime.fromisoformat(position[0]), position[1]
        query = _after(query, created, ident, sa.literal(after_created, created.type), sa.literal(after_id, ident.type))
    return query.order_by(created.desc(), ident.desc()).limit(_page_limit(limit + 1))


def _after(
    query: sa.Select[*Ts], created: sa.Column[Any], ident: sa.Column[Any], after_created: Any, after_id: Any
) -> sa.Select[*Ts]:
    """Rows after the position (created, id) in newest-first order. The row comparison's `created <=`
    is also said alone: PostgreSQL prunes partitions (and bounds an index range) on a plain
    comparison, not on a row comparison."""
    return query.where(created <= after_created, sa.tuple_(created, ident) < sa.tuple_(after_created, after_id))


def _page_limit(value: int | None = None) -> sa.BindParameter[int]:
    """The page's LIMIT, written into the SQL when the statement runs (one prepared statement per
    page size). As a `$n` parameter PostgreSQL cannot cost a generic plan's LIMIT and keeps making a
    custom plan per page: over 28 monthly partitions with statistics that is 1.5 ms of planning
    for a 0.3 ms page (bench/RESULTS.md, Session 6)."""
    return sa.bindparam("page_limit", value, type_=sa.Integer, literal_execute=True)


def newest_first_pages(
    query: sa.Select[*Ts], created: sa.Column[Any], ident: sa.Column[Any]
) -> tuple[sa.Select[*Ts], sa.Select[*Ts]]:
    """`newest_first`, built once at import with bind parameters: (the first page, a page after a
    position), each run with `page_params`. Same SQL, so the same plan, as `newest_first`'s."""
    after = _after(
        query,
        created,
        ident,
        sa.bindparam("page_after_created", type_=created.type),
        sa.bindparam("page_after_id", type_=ident.type),
    )
    limit = _page_limit()
    return tuple(q.order_by(created.desc(), ident.desc()).limit(limit) for q in (query, after))  # type: ignore[return-value]


def page_params(position: Sequence[Any] | None, limit: int) -> dict[str, Any]:
    """The parameters of a `newest_first_pages` statement (the second one when `position` is given)."""
    params: dict[str, Any] = {"page_limit": limit + 1}
    if position is not None:
        params |= {"page_after_created": datetime.fromisoformat(position[0]), "page_after_id": position[1]}
    return params
