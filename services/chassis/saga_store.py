"""Where the saga runner keeps its sagas: the `saga_instances` table (one autocommit statement per
write), behind a small port so a unit test can run sagas on an in-memory store."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.db import autocommit
from services.chassis.saga import OpenSaga


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
    )


class PgSagaStore:
    def __init__(self, engine: AsyncEngine, table: sa.Table) -> None:
        self.engine, self.table = engine, table
        self._statements: dict[tuple[tuple[str, ...], bool], sa.Insert | sa.Update] = {}

    async def insert(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self._write(saga_id, values, insert=True)

    async def update(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self._write(saga_id, values, insert=False)

    async def _write(self, saga_id: uuid.UUID, values: dict[str, Any], insert: bool) -> None:
        statement = self._statement(tuple(sorted(values)), insert)
        async with autocommit(self.engine) as conn:  # one statement: no BEGIN/COMMIT round trips
            await conn.execute(statement, {"the_saga": saga_id, **{f"new_{k}": v for k, v in values.items()}})

    def _statement(self, names: tuple[str, ...], insert: bool) -> sa.Insert | sa.Update:
        """Built once per set of columns written (a few), then run with parameters. Parameter names
        are no column's: an UPDATE would take one named like a column as a value to SET."""
        if (statement := self._statements.get((names, insert))) is None:
            t = self.table
            values = {n: sa.bindparam(f"new_{n}", type_=t.c[n].type) for n in names}
            saga_id = sa.bindparam("the_saga", type_=t.c.saga_id.type)
            statement = (
                sa.insert(t).values(saga_id=saga_id, **values)
                if insert
                else sa.update(t).where(t.c.saga_id == saga_id).values(**values)
            )
            self._statements[(names, insert)] = statement
        return statement

    async def claim_expired(self, now: datetime, lease_until: datetime, limit: int) -> list[OpenSaga]:
        t = self.table
        async with self.engine.begin() as conn:
            stale = sa.select(t.c.saga_id).where(t.c.status.in_(["running", "compensating"]), t.c.lease_until < now)
            rows = await conn.execute(
                sa.update(t)
                .where(t.c.saga_id.in_(stale.limit(limit).with_for_update(skip_locked=True).scalar_subquery()))
                .values(lease_until=lease_until)
                .returning(t.c.saga_id, t.c.saga_type, t.c.state, t.c.steps_done, t.c.status)
            )
            return [OpenSaga(*row) for row in rows]
