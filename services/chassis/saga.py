"""Orchestrated sagas: state and progress persisted before the calls recovery would have to undo
or finish, a compensation per step, and recovery of any saga a crash left half-done (its lease
expired).

A saga's state is a frozen dataclass deriving from SagaState (typed fields, coded by typedjson);
a step takes it and returns the next one (`dataclasses.replace`) or None. Steps must be idempotent:
after a crash the step in progress may run again. Compensations must be idempotent and tolerate
nothing to undo: the step that failed is compensated too, since a call whose answer was lost
(timeout) may have taken effect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

from services.chassis.context import deadline_var
from services.chassis.errors import Unavailable
from services.chassis.protoconv import utcnow
from services.chassis.saga_metrics import SAGA_RECOVERIES, SAGA_SECONDS, SAGAS
from services.chassis.telemetry import in_trace, tracer, tracing_enabled
from services.chassis.typedjson import from_json, to_json

log = logging.getLogger("novatrek.saga")
VERSION_KEY = "state_version"
# The saga whose steps run in this task: a step that `completes` writes its row by this id, fenced
# by running_lease (lease_token).
running_saga: ContextVar[uuid.UUID] = ContextVar("running_saga")


@dataclass
class SagaLease:
    """The `lease_until` this process last wrote on a saga it drives: its fencing token. Every write
    requires the row to still hold it, so a process whose lease ran out and was claimed by recovery
    (or whose row another process ended) writes nothing more and stops (SagaTakenOver)."""

    saga_id: uuid.UUID
    until: datetime


running_lease: ContextVar[SagaLease] = ContextVar("running_lease")


def lease_token(saga_id: uuid.UUID) -> datetime:
    """The fencing token of a write to `saga_id`'s row inside one of its steps (SagaRows.complete)."""
    lease = running_lease.get(None)
    if lease is None or lease.saga_id != saga_id:
        raise RuntimeError(f"saga {saga_id} is not driven in this task")
    return lease.until


class SagaState:
    """Base of a saga's state class. `version` names the shape of its JSON; a saga persisted by an
    earlier release is read through `upgrade` (version 0: the untyped dicts from before versions)."""

    version: ClassVar[int] = 1

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """The JSON of an earlier version, reshaped as this version's."""
        raise ValueError(f"{cls.__name__} cannot read state version {version}")

    @classmethod
    def steps_done_of(cls, steps_done: int, version: int) -> int:
        """Where a saga persisted at an earlier version stands in this version's steps (a release that
        drops a step says here how the earlier count maps)."""
        return steps_done


R = TypeVar("R")
S = TypeVar("S", bound=SagaState)


def dump_state(state: SagaState) -> dict[str, Any]:
    return {**to_json(state), VERSION_KEY: type(state).version}


def load_state(kind: type[S], data: dict[str, Any]) -> S:
    data = dict(data)
    version = data.pop(VERSION_KEY, 0)
    state: S = from_json(kind, data if version == kind.version else kind.upgrade(data, version))
    return state


@dataclass(frozen=True)
class Step(Generic[S]):
    name: str
    action: Callable[[S], Awaitable[S | None]]  # the next state, or None: unchanged
    compensation: Callable[[S], Awaitable[None]] | None = None
    # The step writes the saga's completion (SagaType.completion) in its own transaction, so the
    # runner writes nothing after it: only the last step may.
    completes: bool = False


@dataclass(frozen=True)
class SagaType(Generic[S]):
    name: str
    state: type[S]
    steps: list[Step[S]]
    # Called once compensation finished (the error is None when a recovery compensated).
    on_compensated: Callable[[S, BaseException | None], Awaitable[None]] | None = None
    # The pivot: from this step on the saga only goes forward. A failure there is left for
    # recovery, which retries the (idempotent) remaining steps; its effect may already be committed.
    pivot: int | None = None

    def forward_only(self, step_index: int) -> bool:
        return self.pivot is not None and step_index >= self.pivot

    def covered(self, steps_done: int) -> int:
        """How many steps a saga persisted at `steps_done` may have begun, for undoing it: up to the
        next step with a compensation (the runner persists before any step beyond that, see below)."""
        for index in range(steps_done, len(self.steps)):
            if self.steps[index].compensation is not None:
                return index + 1
        return len(self.steps)

    def persist_before(self, index: int, persisted: int) -> bool:
        """Whether the row must say `index` steps are done before step `index` runs: at the pivot
        (recovery finishes the saga from there), and before a step whose compensation the row
        persisted at `persisted` would not reach. Steps without compensation (reads, a confirm that
        the reservation's cancel undoes too) need no write of their own (DESIGN §8)."""
        if index <= persisted:
            return False
        if index == self.pivot:
            return True
        return any(step.compensation is not None for step in self.steps[self.covered(persisted) : index + 1])

    def completion(self, state: S, now: datetime) -> dict[str, Any]:
        """The row once every step is done: written by the runner, or by a step that `completes`."""
        return {
            "status": "completed",
            "steps_done": len(self.steps),
            "state": dump_state(state),
            "updated_at": now,
            "lease_until": now,
        }


class SagaFailed(Exception):
    """The saga was compensated; `cause` is why."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SagaNotStarted(Exception):
    """The saga could not even be recorded: nothing ran, nothing will be recovered."""


@dataclass
class SagaTakenOver(Unavailable):
    """The saga's lease ran out while its last step was under way (a slow dependency, a database
    restart) and recovery took it over: recovery finishes it, so the caller retries (an idempotent
    request then finds the answer recovery stored), rather than seeing an internal error."""

    reason: str = "SAGA_RECOVERING"
    retry_after_s: float = 1.0


class OpenSaga(NamedTuple):
    saga_id: uuid.UUID
    saga_type: str
    state: dict[str, Any]  # as persisted, any version
    steps_done: int
    status: str  # after the claim: a saga that ended meanwhile is not claimed
    lease_until: datetime  # set by the claim: the recovering driver's fencing token


class SagaStore(Protocol):
    async def insert(self, saga_id: uuid.UUID, values: dict[str, Any]) -> None: ...

    async def update(self, saga_id: uuid.UUID, lease_until: datetime, values: dict[str, Any]) -> bool:
        """Writes `values` if the row, running or compensating, still holds `lease_until` (the writer's
        fencing token); False, writing nothing, if not."""

    async def claim_expired(self, now: datetime, lease_until: datetime, limit: int) -> list[OpenSaga]:
        """Running or compensating sagas whose lease ended before `now`, leased to the caller until
        `lease_until`; a saga another process claims at the same moment is not returned."""


@dataclass
class SagaRunner:
    store: SagaStore  # PgSagaStore in services; an in-memory one in unit tests
    types: dict[str, SagaType[Any]]
    lease_s: float = 30.0
    recovery_interval_s: float = 10.0
    clock: Callable[[], datetime] = utcnow  # leases are taken and found expired by it
    retry_backoff_s: float = 0.2  # a failed compensation's first wait
    service: str = ""  # labels the metrics and names the tracer of its spans
    _running: set[asyncio.Future[Any]] = field(default_factory=set)

    def opening(self, saga_type: str, state: SagaState) -> dict[str, Any]:
        """The saga row's first values. A caller may write them in its own transaction (with the claim
        of an idempotency key: one commit for both) and then `run(..., opened=values)`."""
        now = self.clock()
        values = {"saga_type": saga_type, "status": "running", "steps_done": 0, "state": dump_state(state)}
        return {**values, "created_at": now, "updated_at": now, "lease_until": now + timedelta(seconds=self.lease_s)}

    async def run(
        self, saga_type: str, state: S, saga_id: uuid.UUID | None = None, opened: dict[str, Any] | None = None
    ) -> S:
        """Runs a new saga to its end in a task of its own, so a caller that goes away (cancelled
        RPC) does not stop it half-way: it completes, or compensates. `opened`: the values the caller
        wrote (`opening`) under `saga_id`. Between two writes the steps must fit in the lease."""
        saga, saga_id = self.types[saga_type], saga_id or uuid.uuid4()
        if not isinstance(state, saga.state):
            raise TypeError(f"saga {saga_type} runs on a {saga.state.__name__}, not a {type(state).__name__}")
        if opened is None:
            opened = self.opening(saga_type, state)
            try:
                await self.store.insert(saga_id, opened)
            except Exception as exc:
                raise SagaNotStarted(exc) from exc
        lease = SagaLease(saga_id, opened["lease_until"])
        task = asyncio.ensure_future(self._observed(saga, saga_id, lambda: self._drive(lease, saga, state, 0)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def _observed(
        self, saga: SagaType[Any], saga_id: uuid.UUID, work: Callable[[], Awaitable[R]], recovered: bool = False
    ) -> R:
        """The run as one span (under the caller's: its steps' calls continue the trace), timed."""
        span = tracer(self.service or "saga").start_as_current_span(
            f"saga {saga.name}", attributes={"novatrek.saga_id": str(saga_id), "novatrek.recovered": recovered}
        )
        began = time.monotonic()
        try:
            with span if tracing_enabled() or in_trace() else contextlib.nullcontext():
                return await work()
        finally:
            SAGA_SECONDS.labels(self.service, saga.name).observe(time.monotonic() - began)

    def _ended(self, saga: SagaType[Any], outcome: str) -> None:
        SAGAS.labels(self.service, saga.name, outcome).inc()

    async def _drive(self, lease: SagaLease, saga: SagaType[S], state: S, done: int) -> S:
        persisted = done
        running_saga.set(lease.saga_id)
        running_lease.set(lease)
        for index in range(done, len(saga.steps)):
            step, begun = saga.steps[index], False
            try:
                if saga.persist_before(index, persisted):
                    await self._write(lease, {"steps_done": index, "state": dump_state(state)})
                    persisted = index
                begun = True
                state = await step.action(state) or state
            except SagaTakenOver:
                self._ended(saga, "taken_over")
                raise  # recovery drives the saga now: nothing more is ours to do or undo
            except BaseException as exc:
                if saga.forward_only(persisted):  # the row is past the pivot: recovery finishes it, never undoes it
                    self._ended(saga, "left_for_recovery")
                    log.warning(
                        "saga step failed past its pivot; left for recovery",
                        extra={"saga": saga.name, "step": step.name},
                    )
                    raise
                log.warning(
                    "saga step failed; compensating", extra={"saga": saga.name, "step": step.name, "error": repr(exc)}
                )
                try:
                    await self._compensate(lease, saga, state, index + begun, exc)
                except SagaTakenOver:
                    self._ended(saga, "taken_over")
                    raise
                except Exception as stuck:  # the lease expires and recovery finishes the job
                    log.error("saga left compensating", extra={"saga_id": str(lease.saga_id), "error": repr(stuck)})
                raise SagaFailed(exc) from exc
        if not saga.steps[-1].completes:
            await self._write(lease, saga.completion(state, self.clock()))
        self._ended(saga, "completed")
        return state

    async def _compensate(
        self, lease: SagaLease, saga: SagaType[S], state: S, upto: int, error: BaseException | None
    ) -> None:
        deadline_var.set(None)  # compensations outlive the caller's deadline
        await self._write(lease, {"status": "compensating", "error": repr(error)[:1000] if error else "recovered"})
        failures = []
        for step in reversed(saga.steps[:upto]):  # every one is attempted: one stuck must not block the rest
            if step.compensation is not None:
                try:
                    await self._retrying(lease, step.compensation, state, f"{saga.name}.{step.name}")
                except SagaTakenOver:
                    raise
                except Exception as exc:
                    failures.append(exc)
        if failures:
            self._ended(saga, "compensation_pending")
            raise RuntimeError(f"{len(failures)} compensation(s) of {saga.name} pending: {failures[0]!r}")
        await self._write(lease, {"status": "compensated"})
        self._ended(saga, "compensated")
        if saga.on_compensated is not None:
            await saga.on_compensated(state, error)

    async def _retrying(
        self, lease: SagaLease, compensation: Callable[[S], Awaitable[None]], state: S, name: str, attempts: int = 3
    ) -> None:
        for attempt in range(attempts):
            await self._write(lease, {})  # the lease renewed: an attempt (and its backoff) may take seconds
            try:
                await compensation(state)
                return
            except Exception as exc:
                log.warning(
                    "compensation failed; retrying", extra={"step": name, "attempt": attempt, "error": repr(exc)}
                )
                await asyncio.sleep(min(self.retry_backoff_s * 2**attempt, 5.0))
        raise RuntimeError(f"compensation {name} failed {attempts} times")

    async def _write(self, lease: SagaLease, values: dict[str, Any]) -> None:
        """Writes the row and renews the lease, fenced by the lease last written; stops the driver
        (SagaTakenOver) if recovery claimed the saga meanwhile or it ended."""
        now = self.clock()
        values = {**values, "updated_at": now, "lease_until": now + timedelta(seconds=self.lease_s)}
        if not await self.store.update(lease.saga_id, lease.until, values):
            raise SagaTakenOver(f"saga {lease.saga_id} was taken over by recovery; retry the request")
        lease.until = values["lease_until"]

    async def recover_once(self) -> int:
        """Claims sagas whose lease expired (their process died, or a step past the pivot failed):
        before the pivot they are compensated (the caller is gone; undoing is what it can observe
        consistently), from the pivot on they are driven forward to completion."""
        now = self.clock()
        claimed = await self.store.claim_expired(now, now + timedelta(seconds=self.lease_s), limit=20)
        for row in claimed:
            try:
                await self._recover(row)
            except Exception as exc:
                log.error("saga recovery failed; will retry", extra={"saga_id": str(row.saga_id), "error": repr(exc)})
        return len(claimed)

    async def _recover(self, row: OpenSaga) -> None:
        saga = self.types[row.saga_type]
        state = load_state(saga.state, row.state)  # as persisted by this release or an earlier one
        version = row.state.get(VERSION_KEY, 0)
        done = saga.state.steps_done_of(row.steps_done, version)
        lease = SagaLease(row.saga_id, row.lease_until)  # the claim's: a stalled driver's writes now fail
        SAGA_RECOVERIES.labels(self.service, saga.name).inc()
        if row.status == "running" and saga.forward_only(done):
            await self._observed(saga, row.saga_id, lambda: self._drive(lease, saga, state, done), recovered=True)
            return
        # an earlier release persisted before every step: the step after its count is the last begun
        upto = saga.covered(done) if version == saga.state.version else min(done + 1, len(saga.steps))
        await self._observed(saga, row.saga_id, lambda: self._compensate(lease, saga, state, upto, None), True)

    async def run_recovery(self) -> None:
        while True:
            try:
                await self.recover_once()
            except Exception as exc:
                log.warning("saga recovery pass failed", extra={"error": repr(exc)})
            await asyncio.sleep(self.recovery_interval_s)
