"""partner-network on the gateway's internal listener, in front of the real service (and real
businesses): a network founded, a business invited and joined, a redemption refused for want of
points and a settlement, as REST/JSON under /v1/networks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.gateway.config import NETWORK
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok
from tests.integration.network_fixtures import company


@pytest.fixture
async def live(network_service):
    async with live_gateway(gateway_settings({NETWORK: network_service.address})) as running:
        yield running


async def test_a_network_is_founded_joined_and_settled_over_rest(live, businesses_stub, network_clock):
    a, b = await company(businesses_stub), await company(businesses_stub)
    found = {"requestId": str(uuid.uuid4()), "name": "Fjords", "currency": "EUR", "founderCompanyId": a}
    network = ok(await live.internal.post("/v1/networks", json=found))["network"]
    base = f"/v1/networks/{network['networkId']}"
    assert ok(await live.internal.get(base))["network"] == network
    invite = {"inviterCompanyId": a, "inviteeCompanyId": b, "ttl": "3600s"}
    invitation = ok(await live.internal.post(f"{base}/invitations", json=invite))["invitation"]
    assert invitation["status"] == "INVITATION_STATUS_PENDING"
    joined = ok(await live.internal.post(f"/v1/networks/invitations/{invitation['invitationId']}:accept", json={}))
    assert joined["membership"]["companyId"] == b
    members = ok(await live.internal.get(f"{base}/members"))["memberships"]
    assert {m["companyId"] for m in members} == {a, b}
    redeem = {"operationId": str(uuid.uuid4()), "memberId": str(uuid.uuid4()), "companyId": b, "points": "5"}
    reason, _, _ = failure(await live.internal.post(f"{base}/redemptions", json=redeem), 400)
    assert reason == "INSUFFICIENT_POINTS"
    day = network_clock().date() - timedelta(days=1)
    period = {"periodStart": _date(day), "periodEnd": _date(day + timedelta(days=1))}
    settled = ok(await live.internal.post(f"{base}/settlements", json=period))["settlement"]
    assert settled["currency"] == "EUR" and settled.get("transfers", []) == []
    assert ok(await live.internal.get(f"{base}/settlements"))["settlements"] == [settled]
    left = ok(await live.internal.post(f"{base}/members/{b}:leave", json={}))["membership"]
    assert "leftTime" in left


def _date(d) -> dict:
    return {"year": d.year, "month": d.month, "day": d.day}
