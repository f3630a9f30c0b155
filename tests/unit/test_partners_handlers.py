"""The booking handler's Idempotency-Key bookkeeping, against in-memory fakes."""

import uuid
from datetime import date

import pytest

from services.chassis.errors import Unavailable
from services.chassis.saga import SagaNotStarted
from services.partners import commands, handlers
from services.partners.domain import Basis, CommissionPlan


class FakeKeys:
    def __init__(self) -> None:
        self.rows: dict = {}

    async def claim(self, partner_id, key, request_hash, now, expires):
        return self.rows.setdefault((partner_id, key), None)

    async def release(self, partner_id, key):
        self.rows.pop((partner_id, key), None)


class FakeUow:
    def __init__(self, keys: FakeKeys) -> None:
        self.idempotency = keys

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


class NeverStarts:
    async def run(self, saga_type, state):
        raise SagaNotStarted(ConnectionError("database went away"))


async def test_a_pipeline_that_never_started_frees_its_idempotency_key():
    keys = FakeKeys()
    partner = type(
        "P", (), {"partner_id": uuid.uuid4(), "plan": CommissionPlan.parse(Basis.BOOKING_COUNT, [("0", "0.1")])}
    )()
    deps = handlers.Deps(
        uow=lambda **_: FakeUow(keys),
        sagas=NeverStarts(),
        reservations=None,
        ledger=None,
        pepper=b"p",
    )
    cmd = commands.NewBooking("key-1", "h", uuid.uuid4(), "", "", "", uuid.uuid4(), date(2030, 1, 1), 1, "")
    with pytest.raises(Unavailable) as err:
        await handlers.create_booking(cmd, partner, deps)
    assert err.value.reason == "DATABASE_UNAVAILABLE" and keys.rows == {}
