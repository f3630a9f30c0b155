"""The chassis saga runner on a real PostgreSQL: progress persisted, compensation, recovery."""

import asyncio
import functools
import uuid
from dataclasses import dataclass, replace

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.saga import SagaFailed, SagaNotStarted, SagaRunner, SagaState, SagaType, Step
from services.chassis.saga_store import PgSagaStore, SagaRows, saga_table
from services.cli.embedded import free_port
from tests.helpers import eventually
from tests.unit import saga_fencing_cases as cases
from tests.unit.saga_fakes import ManualClock


@dataclass(frozen=True)
class DemoState(SagaState):
    order: str
    done: tuple[str, ...] = ()

    @classmethod
    def upgrade(cls, data, version):  # before versions (0), a flag per step done
        return {"order": data["order"], "done": [name for name in "abc" if data.get(name)]}


@pytest.fixture(scope="module")
async def saga_db(make_database):
    engine = create_async_engine(await make_database("saga"))
    metadata = sa.MetaData(schema="sagas")
    table = saga_table(metadata)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS sagas"))
        await conn.run_sync(metadata.create_all)
    yield engine, table
    await engine.dispose()


def recording_saga(log: list, fail_at: str | None = None, entered: asyncio.Event | None = None, gate=None) -> SagaType:
    def step(name):
        async def action(state):
            if gate is not None and name == "b":
                entered.set()
                await gate.wait()
            if name == fail_at:
                raise ConnectionError(f"{name} failed")
            log.append(name)
            return replace(state, done=(*state.done, name))

        async def undo(state):
            log.append(f"undo {name}")

        return Step(name, action, undo)

    async def compensated(state, error):
        log.append(f"compensated after {error!r}")

    return SagaType("demo", DemoState, [step("a"), step("b"), step("c")], on_compensated=compensated)


async def row_of(engine, table, order: str):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(table).where(table.c.state["order"].astext == order))).one()


async def insert_left_by_a_crash(engine, table, clock, state: dict, steps_done: int, saga_type: str = "demo"):
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(table).values(
                saga_id=uuid.uuid4(),
                saga_type=saga_type,
                status="running",
                steps_done=steps_done,
                state=state,
                lease_until=clock(),
                created_at=clock(),
                updated_at=clock(),
            )
        )
    clock.advance(1)  # its lease ran out


async def test_a_successful_saga_persists_its_typed_state_and_completes(saga_db):
    engine, table = saga_db
    log = []
    runner = SagaRunner(PgSagaStore(engine, table), {"demo": recording_saga(log)})
    state = await runner.run("demo", DemoState("o-1"))
    assert state == DemoState("o-1", ("a", "b", "c")) and log == ["a", "b", "c"]
    row = await row_of(engine, table, "o-1")
    assert (row.status, row.steps_done) == ("completed", 3)
    assert row.state == {"order": "o-1", "done": ["a", "b", "c"], "state_version": 1}


async def test_a_failed_step_compensates_it_and_every_earlier_step_in_reverse(saga_db):
    engine, table = saga_db
    log = []
    runner = SagaRunner(PgSagaStore(engine, table), {"demo": recording_saga(log, fail_at="c")})
    with pytest.raises(SagaFailed) as failed:
        await runner.run("demo", DemoState("o-2"))
    assert isinstance(failed.value.cause, ConnectionError)
    assert log[:5] == ["a", "b", "undo c", "undo b", "undo a"] and log[5].startswith(
        "compensated after ConnectionError"
    )
    assert (await row_of(engine, table, "o-2")).status == "compensated"


async def test_a_cancelled_caller_does_not_stop_the_saga(saga_db):
    engine, table = saga_db
    log, entered, gate = [], asyncio.Event(), asyncio.Event()
    runner = SagaRunner(PgSagaStore(engine, table), {"demo": recording_saga(log, entered=entered, gate=gate)})
    caller = asyncio.create_task(runner.run("demo", DemoState("o-3")))
    await entered.wait()  # inside step "b"
    caller.cancel()
    gate.set()

    async def completed():
        return (await row_of(engine, table, "o-3")).status == "completed"

    await eventually(completed)
    assert log == ["a", "b", "c"]


async def test_recovery_compensates_a_saga_left_running_by_a_crash(saga_db):
    engine, table = saga_db
    log, clock = [], ManualClock()
    runner = SagaRunner(PgSagaStore(engine, table), {"demo": recording_saga(log)}, clock=clock)
    # a process died after step "a" completed, inside "b"
    await insert_left_by_a_crash(engine, table, clock, {"order": "o-4", "done": ["a"], "state_version": 1}, 1)
    assert await runner.recover_once() >= 1
    assert log[:2] == ["undo b", "undo a"] and log[2] == "compensated after None"
    assert (await row_of(engine, table, "o-4")).status == "compensated"
    assert await runner.recover_once() == 0


async def test_a_saga_persisted_by_an_earlier_version_recovers_through_its_upgrade(saga_db):
    engine, table = saga_db
    log, clock = [], ManualClock()
    base = recording_saga(log)
    pivoted = SagaType("demo-pivoted", DemoState, base.steps, pivot=1)
    runner = SagaRunner(PgSagaStore(engine, table), {"demo-pivoted": pivoted}, clock=clock)
    # written before DemoState had versions: step "a" done, the process died inside "b"
    await insert_left_by_a_crash(engine, table, clock, {"order": "o-old", "a": True}, 1, "demo-pivoted")
    assert await runner.recover_once() >= 1
    assert log == ["b", "c"]  # past its pivot: driven forward from where it was
    row = await row_of(engine, table, "o-old")
    assert (row.status, row.state) == ("completed", {"order": "o-old", "done": ["a", "b", "c"], "state_version": 1})


async def test_a_saga_that_cannot_be_recorded_says_it_never_started(saga_db):
    _, table = saga_db
    log = []
    unreachable = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere")
    runner = SagaRunner(PgSagaStore(unreachable, table), {"demo": recording_saga(log)})
    with pytest.raises(SagaNotStarted):
        await runner.run("demo", DemoState("o-5"))
    assert log == []
    await unreachable.dispose()


async def test_past_its_pivot_a_saga_is_finished_by_recovery_never_undone(saga_db):
    engine, table = saga_db
    log, flaky, clock = [], {"fails": 1}, ManualClock()

    async def record(state):  # the saga's own final write: it may have committed before it failed
        if flaky["fails"]:
            flaky["fails"] -= 1
            raise ConnectionError("database restarted")
        log.append("recorded")

    base = recording_saga(log)
    saga = SagaType(
        "pivoted", DemoState, [*base.steps, Step("record", record)], on_compensated=base.on_compensated, pivot=3
    )
    runner = SagaRunner(PgSagaStore(engine, table), {"pivoted": saga}, clock=clock)
    with pytest.raises(ConnectionError):
        await runner.run("pivoted", DemoState("o-pivot"))
    assert log == ["a", "b", "c"]  # nothing undone
    assert await runner.recover_once() == 0  # its lease holds: its process may still be at it
    clock.advance(runner.lease_s + 1)  # the lease runs out, as if the process had died
    assert await runner.recover_once() >= 1
    assert log == ["a", "b", "c", "recorded"]
    assert (await row_of(engine, table, "o-pivot")).status == "completed"


def rows_of(engine, table):
    return functools.partial(row_of, engine, table)


async def test_a_stalled_driver_taken_over_writes_no_progress_and_runs_no_next_step(saga_db):
    engine, table = saga_db
    store = PgSagaStore(engine, table)
    await cases.a_stalled_driver_taken_over_writes_no_progress_and_runs_no_next_step(
        store, ManualClock(), rows_of(engine, table)
    )


@pytest.mark.parametrize("completes_in_step", [False, True])
async def test_recovery_never_undoes_what_its_stalled_driver_completed(saga_db, completes_in_step):
    engine, table = saga_db

    async def complete(saga_id, values):  # the step's own transaction, as a service's last step
        async with engine.begin() as conn:
            await SagaRows(conn, table).complete(saga_id, values)

    order = f"late-{completes_in_step}"
    await cases.recovery_never_undoes_what_its_stalled_driver_completed(
        PgSagaStore(engine, table),
        ManualClock(),
        rows_of(engine, table),
        order,
        complete if completes_in_step else None,
    )


async def test_compensation_keeps_its_lease(saga_db):
    engine, table = saga_db
    await cases.compensation_keeps_its_lease(PgSagaStore(engine, table), ManualClock(), rows_of(engine, table))
