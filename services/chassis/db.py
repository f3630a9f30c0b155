"""SQLAlchemy 2 async engine and the unit of work every handler writes through."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from services.chassis import errors
from services.chassis.config import ServiceSettings
from services.chassis.outbox import outbox_row


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    # QueuePool keeps db_pool_min connections and grows to db_pool_max under load; connections
    # are recycled after the idle timeout. Pre-ping (a round trip per checkout) finds a connection a
    # database restart left stale before a transaction starts on it: without it, the stale connection
    # fails mid-transaction, which the restart scenario showed can leave a booking half-compensated.
    return create_async_engine(
        settings.database_url.get_secret_value(),
        pool_size=settings.db_pool_min,
        max_overflow=max(0, settings.db_pool_max - settings.db_pool_min),
        pool_recycle=settings.db_pool_idle_timeout_s,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={"timeout": 5, "command_timeout": 30, "server_settings": {"timezone": "UTC"}},
    )


class UnitOfWork:
    """One transaction. Events published through it are outbox rows in the same transaction; the
    relay is woken only after the commit. Subclasses bind their repositories in `bind`."""

    def __init__(self, engine: AsyncEngine, outbox: sa.Table | None, source: str, relay=None, read_only: bool = False) -> None:
        self.engine, self.outbox, self.source, self.relay, self.read_only = engine, outbox, source, relay, read_only
        self._events: list[dict] = []
        self.conn: AsyncConnection

    def bind(self, conn: AsyncConnection) -> None:
        """Create the context's repositories on `conn`."""

    def publish(self, event: Message, occurred: datetime) -> None:
        self._events.append(outbox_row(event, self.source, occurred))

    async def __aenter__(self):
        self.conn = await self.engine.connect()
        if self.read_only:  # one statement per read: no BEGIN/COMMIT round trips
            await self.conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            await self.conn.begin()
        self._events = []
        self.bind(self.conn)
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.read_only:
                pass  # autocommit: nothing to end
            elif exc_type is None:
                if self._events:
                    await self.conn.execute(sa.insert(self.outbox), self._events)
                await self.conn.commit()
            else:
                await self.conn.rollback()
        finally:
            await self.conn.close()
        if exc_type is None and self._events and self.relay is not None:
            self.relay.kick()


# The server went away or cannot take connections yet (restart, failover, cut network): class 08,
# admin/crash shutdown and "cannot connect now" (57P01-03); a cancelled statement (57014) is not one.
_LOST = (OSError, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.CannotConnectNowError,
         asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.CrashShutdownError)


def database_unavailable(exc: BaseException) -> errors.Unavailable | None:
    """The UNAVAILABLE (retry later) that a lost or refused database connection is for a caller,
    instead of INTERNAL: a database restart is an outage, not a bug. None for any other error."""
    seen, pending = set(), [exc]
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


def newest_first(query: sa.Select, created: sa.Column, ident: sa.Column, position: list | None, limit: int) -> sa.Select:
    """Keyset page ordered by (created, id) descending; `position` is the last row of the previous
    page as [created ISO string, id string]. Fetches limit + 1 rows to know whether more exist."""
    if position is not None:
        after_created, after_id = datetime.fromisoformat(position[0]), position[1]
        query = query.where(sa.tuple_(created, ident) < sa.tuple_(sa.literal(after_created), sa.literal(after_id, ident.type)))
    return query.order_by(created.desc(), ident.desc()).limit(limit + 1)


def page_of(rows: list, limit: int, position_of) -> tuple[list, list | None]:
    """Splits the limit + 1 rows of `newest_first` into the page and the next page's position."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, position_of(page[-1])
