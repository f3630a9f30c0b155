"""The saga runner's fence on the in-memory store: each write needs the lease its writer last wrote."""

from types import SimpleNamespace

import pytest

from services.chassis.saga import SagaFailed, SagaRunner
from tests.unit import saga_fencing_cases as cases
from tests.unit.saga_fakes import InMemorySagaStore, ManualClock, Sagas


@pytest.fixture
def store():
    return InMemorySagaStore()


def rows_of(store: InMemorySagaStore):
    async def row_of(order: str):
        (row,) = (row for row in store.rows.values() if row["state"]["order"] == order)
        return SimpleNamespace(**row)

    return row_of


async def test_a_stalled_driver_taken_over_writes_no_progress_and_runs_no_next_step(store):
    await cases.a_stalled_driver_taken_over_writes_no_progress_and_runs_no_next_step(
        store, ManualClock(), rows_of(store)
    )


@pytest.mark.parametrize("completes_in_step", [False, True])
async def test_recovery_never_undoes_what_its_stalled_driver_completed(store, completes_in_step):
    complete = Sagas(store).complete if completes_in_step else None
    await cases.recovery_never_undoes_what_its_stalled_driver_completed(
        store, ManualClock(), rows_of(store), "late", complete
    )


async def test_compensation_keeps_its_lease(store):
    await cases.compensation_keeps_its_lease(store, ManualClock(), rows_of(store))


class FailingProgress(InMemorySagaStore):
    """The write of the saga's progress before step c fails (a database restart)."""

    async def update(self, saga_id, lease_until, values):
        if values.get("steps_done") == 2 and "status" not in values:
            raise ConnectionError("database restarted")
        return await super().update(saga_id, lease_until, values)


async def test_a_failed_progress_write_compensates_the_steps_that_ran():
    log: list[str] = []
    store = FailingProgress()
    runner = SagaRunner(store, {"trail": cases.trail_saga(log)}, clock=ManualClock(), retry_backoff_s=0)
    with pytest.raises(SagaFailed, match="database restarted"):
        await runner.run("trail", cases.Trail("o"))
    assert log == ["a", "b", "undo b", "undo a"] and store.only()["status"] == "compensated"
