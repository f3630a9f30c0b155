"""The chassis saga runner on a real PostgreSQL: progress persisted, compensation, recovery."""

import asyncio
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaFailed, SagaRunner, SagaType, Step, saga_table


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


def recording_saga(log: list, fail_at: str | None = None, block: asyncio.Event | None = None) -> SagaType:
    def step(name):
        async def action(state):
            if block is not None and name == "b":
                await block.wait()
            if name == fail_at:
                raise ConnectionError(f"{name} failed")
            log.append(name)
            return {name: True}

        async def undo(state):
            log.append(f"undo {name}")

        return Step(name, action, undo)

    async def compensated(state, error):
        log.append(f"compensated after {error!r}")

    return SagaType("demo", [step("a"), step("b"), step("c")], on_compensated=compensated)


async def test_a_successful_saga_persists_its_state_and_completes(saga_db):
    engine, table = saga_db
    log = []
    runner = SagaRunner(engine, table, {"demo": recording_saga(log)})
    state = await runner.run("demo", {"order": "o-1"})
    assert state == {"order": "o-1", "a": True, "b": True, "c": True} and log == ["a", "b", "c"]
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(table).where(table.c.state["order"].astext == "o-1"))).one()
    assert (row.status, row.steps_done) == ("completed", 3)


async def test_a_failed_step_compensates_it_and_every_earlier_step_in_reverse(saga_db):
    engine, table = saga_db
    log = []
    runner = SagaRunner(engine, table, {"demo": recording_saga(log, fail_at="c")})
    with pytest.raises(SagaFailed) as failed:
        await runner.run("demo", {"order": "o-2"})
    assert isinstance(failed.value.cause, ConnectionError)
    assert log[:5] == ["a", "b", "undo c", "undo b", "undo a"] and log[5].startswith(
        "compensated after ConnectionError"
    )


async def test_a_cancelled_caller_does_not_stop_the_saga(saga_db):
    engine, table = saga_db
    log, gate = [], asyncio.Event()
    runner = SagaRunner(engine, table, {"demo": recording_saga(log, block=gate)})
    caller = asyncio.create_task(runner.run("demo", {"order": "o-3"}))
    await asyncio.sleep(0.2)
    caller.cancel()
    gate.set()
    await asyncio.sleep(0.5)
    assert log == ["a", "b", "c"]


async def test_recovery_compensates_a_saga_left_running_by_a_crash(saga_db):
    engine, table = saga_db
    saga_id, log = uuid.uuid4(), []
    async with engine.begin() as conn:  # a process died after step "a" completed, inside "b"
        await conn.execute(
            sa.insert(table).values(
                saga_id=saga_id,
                saga_type="demo",
                status="running",
                steps_done=1,
                state={"order": "o-4"},
                lease_until=utcnow() - timedelta(seconds=1),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    runner = SagaRunner(engine, table, {"demo": recording_saga(log)})
    assert await runner.recover_once() >= 1
    assert log[:2] == ["undo b", "undo a"] and log[2] == "compensated after None"
    async with engine.connect() as conn:
        assert (
            await conn.execute(sa.select(table.c.status).where(table.c.saga_id == saga_id))
        ).scalar_one() == "compensated"
    assert await runner.recover_once() == 0


async def test_a_saga_that_cannot_be_recorded_says_it_never_started(saga_db):
    from services.chassis.saga import SagaNotStarted

    engine, table = saga_db
    log = []
    runner = SagaRunner(engine, table, {"demo": recording_saga(log)})
    with pytest.raises(SagaNotStarted):
        await runner.run("demo", {"not": {"json", "serializable"}})
    assert log == []


async def test_past_its_pivot_a_saga_is_finished_by_recovery_never_undone(saga_db):
    engine, table = saga_db
    log, flaky = [], {"fails": 1}

    async def record(state):  # the saga's own final write: it may have committed before it failed
        if flaky["fails"]:
            flaky["fails"] -= 1
            raise ConnectionError("database restarted")
        log.append("recorded")

    base = recording_saga(log)
    saga = SagaType("pivoted", [*base.steps, Step("record", record)], on_compensated=base.on_compensated, pivot=3)
    runner = SagaRunner(engine, table, {"pivoted": saga}, lease_s=0.1)
    with pytest.raises(ConnectionError):
        await runner.run("pivoted", {"order": "o-pivot"})
    assert log == ["a", "b", "c"]  # nothing undone
    await asyncio.sleep(0.2)  # the lease runs out, as if the process had died
    assert await runner.recover_once() >= 1
    assert log == ["a", "b", "c", "recorded"]
    async with engine.connect() as conn:
        status = (
            await conn.execute(sa.select(table.c.status).where(table.c.state["order"].astext == "o-pivot"))
        ).scalar_one()
    assert status == "completed"
