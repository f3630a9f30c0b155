"""The chassis saga runner's port in memory, and a clock a test moves: sagas in unit tests."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from services.chassis.protoconv import utcnow
from services.chassis.saga import OpenSaga, SagaTakenOver, lease_token


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _as_stored(values: dict) -> dict:
    """As a JSONB column would give the state back: through JSON."""
    return {**values, **({"state": json.loads(json.dumps(values["state"]))} if "state" in values else {})}


class InMemorySagaStore:
    """saga_instances as a dict of rows; `state` is kept as the JSON it would be in the column."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, dict] = {}
        self.writes: list[tuple[str, int]] = []  # (status, steps_done) of every write, in order

    async def insert(self, saga_id: uuid.UUID, values: dict) -> None:
        assert saga_id not in self.rows
        self.rows[saga_id] = _as_stored(values)
        self.writes.append((values["status"], values["steps_done"]))

    async def update(self, saga_id: uuid.UUID, lease_until: datetime, values: dict) -> bool:
        """As PgSagaStore: fenced by the writer's lease, on a saga running or compensating."""
        return self.write_fenced(saga_id, lease_until, values, ("running", "compensating"))

    def write_fenced(self, saga_id: uuid.UUID, lease_until: datetime, values: dict, statuses: tuple) -> bool:
        row = self.rows[saga_id]
        if row["lease_until"] != lease_until or row["status"] not in statuses:
            return False
        row.update(_as_stored(values))
        self.writes.append((row["status"], row["steps_done"]))
        return True

    async def claim_expired(self, now: datetime, lease_until: datetime, limit: int) -> list[OpenSaga]:
        claimed: list[OpenSaga] = []
        for saga_id, row in self.rows.items():
            if row["status"] in ("running", "compensating") and row["lease_until"] < now and len(claimed) < limit:
                row["lease_until"] = lease_until
                claimed.append(
                    OpenSaga(saga_id, row["saga_type"], row["state"], row["steps_done"], row["status"], lease_until)
                )
        return claimed

    def only(self) -> dict:
        (row,) = self.rows.values()
        return row


class Sagas:
    """SagaRows over the in-memory store: the saga rows a unit of work writes in its own transaction."""

    def __init__(self, store: InMemorySagaStore) -> None:
        self.store = store

    async def open(self, saga_id, values) -> None:
        await self.store.insert(saga_id, values)

    async def complete(self, saga_id, values) -> None:
        if not self.store.write_fenced(saga_id, lease_token(saga_id), values, ("running",)):  # as SagaRows
            raise SagaTakenOver(f"saga {saga_id} is being finished by recovery")
