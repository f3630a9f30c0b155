"""Orchestrated sagas: state and progress persisted before each next call, a compensation per
step, and recovery of any saga a crash left half-done (its lease expired).

Steps must be idempotent: after a crash the step in progress may run again. Compensations must be
idempotent and tolerate nothing to undo: the step that failed is compensated too, since a call
whose answer was lost (timeout) may have taken effect."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.context import deadline_var
from services.chassis.db import autocommit
from services.chassis.protoconv import utcnow

log = logging.getLogger("novatrek.saga")
State = dict


def saga_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "saga_instances",
        metadata,
        sa.Column("saga_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("saga_type", sa.String(64), nullable=False),
        # running -> completed | compensating -> compensated
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("steps_done", sa.Integer, nullable=False),
        sa.Column("state", JSONB, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("idx_saga_open", "status", "lease_until"),
    )


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[State], Awaitable[State | None]]
    compensation: Callable[[State], Awaitable[None]] | None = None


@dataclass(frozen=True)
class SagaType:
    name: str
    steps: list[Step]
    # Called once compensation finished (the error is None when a recovery compensated).
    on_compensated: Callable[[State, BaseException | None], Awaitable[None]] | None = None
    # The pivot: from this step on the saga only goes forward. A failure there is left for
    # recovery, which retries the (idempotent) remaining steps; its effect may already be committed.
    pivot: int | None = None

    def forward_only(self, step_index: int) -> bool:
        return self.pivot is not None and step_index >= self.pivot


class SagaFailed(Exception):
    """The saga was compensated; `cause` is why."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SagaNotStarted(Exception):
    """The saga could not even be recorded: nothing ran, nothing will be recovered."""


@dataclass
class SagaRunner:
    engine: AsyncEngine
    table: sa.Table
    types: dict[str, SagaType]
    lease_s: float = 30.0
    recovery_interval_s: float = 10.0
    _running: set = field(default_factory=set)
    _statements: dict = field(default_factory=dict)

    async def run(self, saga_type: str, state: State) -> State:
        """Runs a new saga to its end in a task of its own, so a caller that goes away (cancelled
        RPC) does not stop it half-way: it completes, or compensates."""
        saga_id = uuid.uuid4()
        try:
            await self._write(
                saga_id,
                values={
                    "saga_type": saga_type,
                    "status": "running",
                    "steps_done": 0,
                    "state": state,
                    "created_at": utcnow(),
                },
                insert=True,
            )
        except Exception as exc:
            raise SagaNotStarted(exc) from exc
        task = asyncio.ensure_future(self._drive(saga_id, self.types[saga_type], state, 0))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def _drive(self, saga_id, saga: SagaType, state: State, done: int) -> State:
        for index in range(done, len(saga.steps)):
            step = saga.steps[index]
            try:
                state = {**state, **(await step.action(state) or {})}
            except BaseException as exc:
                if saga.forward_only(index):  # past the pivot: recovery finishes it, never undoes it
                    log.warning(
                        "saga step failed past its pivot; left for recovery",
                        extra={"saga": saga.name, "step": step.name},
                    )
                    raise
                log.warning(
                    "saga step failed; compensating", extra={"saga": saga.name, "step": step.name, "error": repr(exc)}
                )
                try:
                    await self._compensate(saga_id, saga, state, index + 1, exc)
                except Exception as stuck:  # the lease expires and recovery finishes the job
                    log.error("saga left compensating", extra={"saga_id": str(saga_id), "error": repr(stuck)})
                raise SagaFailed(exc) from exc
            progress = {"steps_done": index + 1, "state": state}
            await self._write(saga_id, progress if index + 1 < len(saga.steps) else {**progress, "status": "completed"})
        return state

    async def _compensate(self, saga_id, saga: SagaType, state: State, upto: int, error: BaseException | None) -> None:
        deadline_var.set(None)  # compensations outlive the caller's deadline
        await self._write(saga_id, {"status": "compensating", "error": repr(error)[:1000] if error else "recovered"})
        failures = []
        for step in reversed(saga.steps[:upto]):  # every one is attempted: one stuck must not block the rest
            if step.compensation is not None:
                try:
                    await self._retrying(step.compensation, state, f"{saga.name}.{step.name}")
                except Exception as exc:
                    failures.append(exc)
        if failures:
            raise RuntimeError(f"{len(failures)} compensation(s) of {saga.name} pending: {failures[0]!r}")
        await self._write(saga_id, {"status": "compensated"})
        if saga.on_compensated is not None:
            await saga.on_compensated(state, error)

    async def _retrying(self, compensation, state: State, name: str, attempts: int = 3) -> None:
        for attempt in range(attempts):
            try:
                return await compensation(state)
            except Exception as exc:
                log.warning(
                    "compensation failed; retrying", extra={"step": name, "attempt": attempt, "error": repr(exc)}
                )
                await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
        raise RuntimeError(f"compensation {name} failed {attempts} times")

    async def _write(self, saga_id, values: dict, insert: bool = False) -> None:
        now = utcnow()
        values = {**values, "updated_at": now, "lease_until": now + timedelta(seconds=self.lease_s)}
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

    async def recover_once(self) -> int:
        """Claims sagas whose lease expired (their process died, or a step past the pivot failed):
        before the pivot they are compensated (the caller is gone; undoing is what it can observe
        consistently), from the pivot on they are driven forward to completion."""
        t, now = self.table, utcnow()
        async with self.engine.begin() as conn:
            stale = sa.select(t.c.saga_id).where(t.c.status.in_(["running", "compensating"]), t.c.lease_until < now)
            rows = (
                await conn.execute(
                    sa.update(t)
                    .where(t.c.saga_id.in_(stale.limit(20).with_for_update(skip_locked=True).scalar_subquery()))
                    .values(lease_until=now + timedelta(seconds=self.lease_s))
                    .returning(t.c.saga_id, t.c.saga_type, t.c.state, t.c.steps_done, t.c.status)
                )
            ).all()
        for row in rows:
            try:
                saga = self.types[row.saga_type]
                if row.status == "running" and saga.forward_only(row.steps_done):
                    await self._drive(row.saga_id, saga, row.state, row.steps_done)
                    continue
                await self._compensate(row.saga_id, saga, row.state, min(row.steps_done + 1, len(saga.steps)), None)
            except Exception as exc:
                log.error("saga recovery failed; will retry", extra={"saga_id": str(row.saga_id), "error": repr(exc)})
        return len(rows)

    async def run_recovery(self) -> None:
        while True:
            try:
                await self.recover_once()
            except Exception as exc:
                log.warning("saga recovery pass failed", extra={"error": repr(exc)})
            await asyncio.sleep(self.recovery_interval_s)
