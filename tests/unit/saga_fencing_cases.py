"""The saga runner's fence (each writer's last lease), as scenarios run on the in-memory store (unit
tests) and on PostgreSQL (tests/integration/test_saga.py): a driver whose lease recovery claimed
writes nothing more and runs no further step, and compensation keeps its lease."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaFailed, SagaRunner, SagaState, SagaTakenOver, SagaType, Step, running_saga

Complete = Callable[[Any, dict], Awaitable[None]]  # SagaRows.complete, in the step's own transaction
RowOf = Callable[[str], Awaitable[Any]]  # the saga row of an order: .status, .lease_until


@dataclass(frozen=True)
class Trail(SagaState):
    order: str
    done: tuple[str, ...] = ()


@dataclass
class Gate:
    """Where step `at` waits, as on a slow dependency, until the test lets it go."""

    at: str
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


def trail_saga(log: list, gate: Gate | None = None, complete: Complete | None = None, fail_at: str = "", on_undo=None):
    """Steps a, b, c, each undone by its compensation. With `complete`, c writes the completion itself."""

    def step(name: str) -> Step[Trail]:
        async def action(state: Trail) -> Trail:
            if gate is not None and gate.at == name:
                gate.entered.set()
                await gate.released.wait()
            if name == fail_at:
                raise ConnectionError(f"{name} failed")
            log.append(name)
            state = replace(state, done=(*state.done, name))
            if complete is not None and name == "c":
                await complete(running_saga.get(), saga.completion(state, utcnow()))
            return state

        async def undo(state: Trail) -> None:
            log.append(f"undo {name}")
            if on_undo is not None:
                await on_undo()

        return Step(name, action, undo, completes=complete is not None and name == "c")

    saga = SagaType("trail", Trail, [step("a"), step("b"), step("c")])
    return saga


class ClaimThen:
    """A store whose claims are followed by `meanwhile`: a recovery stalled between its claim and its
    first write."""

    def __init__(self, store: Any, meanwhile: Callable[[], Awaitable[None]]) -> None:
        self.store, self.meanwhile = store, meanwhile
        self.insert, self.update = store.insert, store.update

    async def claim_expired(self, now: Any, lease_until: Any, limit: int) -> list:
        claimed = await self.store.claim_expired(now, lease_until, limit)
        await self.meanwhile()
        return claimed


async def a_stalled_driver_taken_over_writes_no_progress_and_runs_no_next_step(store, clock, row_of: RowOf) -> None:
    log: list[str] = []
    gate = Gate("b")
    runner = SagaRunner(store, {"trail": trail_saga(log, gate)}, clock=clock)
    driver = asyncio.create_task(runner.run("trail", Trail("stalled")))
    await gate.entered.wait()
    clock.advance(runner.lease_s + 1)  # b outlasts the lease: recovery takes the saga over and undoes it
    assert await runner.recover_once() >= 1
    assert log == ["a", "undo b", "undo a"]
    gate.released.set()
    with pytest.raises(SagaTakenOver):
        await driver
    assert log == ["a", "undo b", "undo a", "b"]  # b was in flight; c never ran
    row = await row_of("stalled")
    assert (row.status, row.steps_done) == ("compensated", 1)


async def recovery_never_undoes_what_its_stalled_driver_completed(
    store, clock, row_of: RowOf, order: str, complete: Complete | None = None
) -> None:
    """The driver finishes after recovery claimed the saga (as running): its completion is refused,
    so recovery's compensation never lands on a completed saga its caller was told succeeded."""
    log: list[str] = []
    gate = Gate("c")
    saga = trail_saga(log, gate, complete)
    driver = asyncio.create_task(SagaRunner(store, {"trail": saga}, clock=clock).run("trail", Trail(order)))
    await gate.entered.wait()

    async def driver_finishes() -> None:
        gate.released.set()
        with pytest.raises(SagaTakenOver):
            await driver

    recovery = SagaRunner(ClaimThen(store, driver_finishes), {"trail": saga}, clock=clock)
    clock.advance(recovery.lease_s + 1)
    assert await recovery.recover_once() >= 1
    assert log == ["a", "b", "c", "undo c", "undo b", "undo a"]
    assert (await row_of(order)).status == "compensated"


async def compensation_keeps_its_lease(store, clock, row_of: RowOf) -> None:
    """Each compensation takes most of a lease: renewed before each, the saga is never up for recovery."""
    log: list[str] = []
    held: list[bool] = []

    async def slow_undo() -> None:
        clock.advance(runner.lease_s * 0.6)
        held.append((await row_of("slow")).lease_until > clock())

    runner = SagaRunner(store, {"trail": trail_saga(log, fail_at="c", on_undo=slow_undo)}, clock=clock)
    with pytest.raises(SagaFailed, match="c failed"):
        await runner.run("trail", Trail("slow"))
    assert log == ["a", "b", "undo c", "undo b", "undo a"] and held == [True, True, True]
    assert (await row_of("slow")).status == "compensated"
