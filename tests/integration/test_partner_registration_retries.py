"""A retried RegisterPartner (the same Idempotency-Key and body) makes one partner, over REST through the
gateway and over gRPC, and reveals no second API key."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from novatrek.partners.v1 import partners_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import eventually, fails
from tests.integration.gateway_fixtures import failure, live_gateway, ok, partner_gateway_settings
from tests.integration.partner_fixtures import ADMIN, ADMIN_TOKEN, count_plan

PLAN = {"basis": "TIER_BASIS_BOOKING_COUNT", "tiers": [{"threshold": "0", "rate": "0.10"}]}


@pytest.fixture(scope="module")
async def api(partners_service):
    async with live_gateway(partner_gateway_settings(partners_service.address)) as running:
        yield running.public


@pytest.fixture(scope="module")
async def partners_db(partners_service):
    engine = create_async_engine(partners_service.database_url)
    yield engine
    await engine.dispose()


async def partners_named(db, name: str) -> int:
    async with db.connect() as conn:
        return (
            await conn.execute(sa.text("SELECT count(*) FROM partners.partners WHERE name = :n"), {"n": name})
        ).scalar()


def admin(key: str) -> dict:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}", "Idempotency-Key": key}


async def test_a_retried_registration_over_rest_makes_one_partner(api, partners_db):
    name, key = f"OTA {uuid.uuid4().hex[:8]}", f"reg-{uuid.uuid4()}"
    body = {"partner": {"name": name, "contactEmail": "ops@ota.example", "commissionPlan": PLAN}}
    first = ok(await api.post("/v1/partners", headers=admin(key), json=body))
    again = ok(await api.post("/v1/partners", headers=admin(key), json=body))

    assert again["partner"] == first["partner"] and first["apiKey"].startswith(first["partner"]["apiKeyPrefix"])
    assert again.get("apiKey", "") == ""  # shown once: a replay mints none and cannot show the first
    assert again["webhookSecret"] == first["webhookSecret"]
    assert await partners_named(partners_db, name) == 1
    ok(await api.get("/v1/bookings", headers={"Authorization": f"Bearer {first['apiKey']}"}))

    other = {"partner": {**body["partner"], "contactEmail": "other@ota.example"}}
    assert failure(await api.post("/v1/partners", headers=admin(key), json=other), 422)[0] == "IDEMPOTENCY_KEY_REUSED"
    assert await partners_named(partners_db, name) == 1


async def test_registrations_without_a_key_or_with_keys_of_their_own_are_distinct(api):
    body = {"partner": {"name": "OTA twin", "contactEmail": "ops@ota.example", "commissionPlan": PLAN}}
    no_key = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    answers = [
        ok(await api.post("/v1/partners", headers=h, json=body)) for h in (no_key, no_key, admin("a"), admin("b"))
    ]
    assert len({a["partner"]["partnerId"] for a in answers}) == 4 and all(a["apiKey"] for a in answers)


async def test_a_registration_in_flight_refuses_its_retry(partners_stub, partners_db):
    """The first request holds its key while its insert waits for a lock; the retry meets it in flight."""
    key = f"reg-{uuid.uuid4()}"
    request = pb.RegisterPartnerRequest(
        partner=pb.Partner(name="OTA slow", contact_email="ops@ota.example", commission_plan=count_plan(("0", "0.1")))
    )
    metadata = (*ADMIN, ("idempotency-key", key))
    async with partners_db.connect() as blocker:
        await blocker.execute(sa.text("LOCK TABLE partners.partners IN EXCLUSIVE MODE"))
        first = asyncio.ensure_future(partners_stub.RegisterPartner(request, metadata=metadata, timeout=30))
        await eventually(lambda: _claimed(partners_db, key), timeout_s=10, interval_s=0.02)
        refused = await fails(partners_stub.RegisterPartner(request, metadata=metadata, timeout=10))
        assert (refused.code.name, refused.reason) == ("ABORTED", "IDEMPOTENCY_KEY_IN_USE")
        await blocker.rollback()
    made = await first
    replayed = await partners_stub.RegisterPartner(request, metadata=metadata, timeout=10)
    assert made.api_key and not replayed.api_key and replayed.partner == made.partner


async def _claimed(db, key: str) -> bool:
    statement = sa.text("SELECT count(*) FROM partners.idempotency_keys WHERE idempotency_key = :k")
    async with db.connect() as conn:
        return bool((await conn.execute(statement, {"k": key})).scalar())


async def test_the_header_is_advertised_where_it_is_honoured(api):
    spec = ok(await api.get("/openapi.json"))
    advertised = {
        op["operationId"]
        for methods in spec["paths"].values()
        for op in methods.values()
        if any(p.get("name") == "Idempotency-Key" for p in op["parameters"])
    }
    assert {op.split("_")[-1] for op in advertised} == {"RegisterPartner", "CreatePartnerBooking"}
