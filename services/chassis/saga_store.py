"""Where the saga runner keeps its sagas: the `saga_instances` table (one autocommit statement per
write, or a statement in the caller's transaction: SagaRows), behind a small port so a unit test can
run sagas on an in-memory store."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.chassis.db import autocommit
from services.chassis.saga import OpenSaga, SagaTakenOver, lease_token


def saga_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "saga_instances",
        metadata,
        sa.Column("saga_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("saga_type", sa.String(64), nullable=False),
        # running -> completed | compensating -> compensated
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("steps_done", sa.Integer, nullable=False),
        sa.Column("state", JSONB, nullable=False),  # the state's JSON (saga.dump_state)
        sa.Column("error", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("idx_saga_open", "status", "lease_until"),
        info={"support": True},  # plumbing, not the context's data (the portal lists it apart)
    )


_STATEMENTS: dict[tuple[str, tuple[str, ...], str], sa.Insert | sa.Update] = {}


def _statement(table: sa.Table, names: tuple[str, ...], kind: str) -> sa.Insert | sa.Update:
    """Built once per table, set of columns written (a few) and kind — insert, update (of a saga
    running or compensating), or finish (of a saga still running) — then run with parameters. An
    update or finish is fenced: it needs the row to hold the writer's lease (`held_lease`). Parameter
    names are no column's: an UPDATE would take one named like a column as a value to SET."""
    if (statement := _STATEMENTS.get((table.fullname, names, kind))) is None:
        values = {n: sa.bindparam(f"new_{n}", type_=table.c[n].type) for n in names}
        saga_id = sa.bindparam("the_saga", type_=table.c.saga_id.type)
        if kind == "insert":
            statement = sa.insert(table).values(saga_id=saga_id, **values)
        else:
            held = table.c.lease_until == sa.bindparam("held_lease", type_=table.c.lease_until.type)
            open_ = table.c.status == "running" if kind == "finish" else table.c.status.in_(["running", "compensating"])
            statement = sa.update(table).where(table.c.saga_id == saga_id, held, open_).values(**values)
        _STATEMENTS[(table.fullname, names, kind)] = statement
    return statement


async def _write(
    conn: AsyncConnection, table: sa.Table, saga_id: uuid.UUID, values: dict[str, Any], kind: str, **fence: Any
) -> int:
    statement = _statement(table, tuple(sorted(values)), kind)
    params = {"the_saga": saga_id, **fence, **{f"new_{k}": v for k, v in values.items()}}
    return int((await conn.execute(statement, params)).rowcount)


class SagaRows:
    """Saga rows written inside a caller's own transaction: the opening (SagaRunner.opening) with the
    claim of an idempotency key, the completion (SagaType.completion) with the last step's write."""

    def __init__(self, conn: AsyncConnection, table: sa.Table) -> None:
        self.conn, self.table = conn, table

    async def open(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None:
        await _write(self.conn, self.table, saga_id, values, "insert")

    async def complete(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None:
        """From inside a step of the saga (its lease is the fence: lease_token). Refuses, and so rolls
        the caller's transaction back, if recovery took the saga over."""
        if await _write(self.conn, self.table, saga_id, values, "finish", held_lease=lease_token(saga_id)) != 1:
            raise SagaTakenOver(f"saga {saga_id} is being finished by recovery; retry the request")


class PgSagaStore:
    def __init__(self, engine: AsyncEngine, table: sa.Table) -> None:
        self.engine, self.table = engine, table

    async def insert(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None:
        async with autocommit(self.engine) as conn:  # one statement: no BEGIN/COMMIT round trips
            await _write(conn, self.table, saga_id, values, "insert")

    async def update(self, saga_id: uuid.UUID, lease_until: datetime, values: dict[str, Any]) -> bool:
        async with autocommit(self.engine) as conn:
            return await _write(conn, self.table, saga_id, values, "update", held_lease=lease_until) == 1

    async def claim_expired(self, now: datetime, lease_until: datetime, limit: int) -> list[OpenSaga]:
        t = self.table
        async with self.engine.begin() as conn:
            expired = (t.c.status.in_(["running", "compensating"]), t.c.lease_until < now)
            stale = sa.select(t.c.saga_id).where(*expired).limit(limit).with_for_update(skip_locked=True)
            rows = await conn.execute(  # the row as claimed: its status now, and the new lease (the fence)
                sa.update(t)
                .where(t.c.saga_id.in_(stale.scalar_subquery()), *expired)
                .values(lease_until=lease_until)
                .returning(t.c.saga_id, t.c.saga_type, t.c.state, t.c.steps_done, t.c.status, t.c.lease_until)
            )
            return [OpenSaga(*row) for row in rows]
