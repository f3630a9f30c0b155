"""Loyalty on the gateway's internal listener, in front of the real service: rules, an earning, the
balance restricted to issuers (a repeated query parameter), a redemption and a reversal over
REST/JSON, and a refusal as its HTTP status and reason."""

from __future__ import annotations

import uuid

import pytest

from services.gateway.config import LOYALTY
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok


@pytest.fixture
async def live(loyalty_service):
    async with live_gateway(gateway_settings({LOYALTY: loyalty_service.address})) as running:
        yield running


async def test_points_are_earned_read_redeemed_and_given_back_over_rest(live):
    api, member, a, b, shop = live.internal, *(str(uuid.uuid4()) for _ in range(4))
    rule = {"source": "EARN_SOURCE_SESSION", "pointsPerUnit": "2", "expiryDays": 30}
    assert ok(await api.post(f"/v1/loyalty/companies/{a}/earn-rules", json=rule))["rule"]["pointsPerUnit"] == "2"
    value = {"pointValue": {"currencyCode": "EUR", "nanos": 10_000_000}}
    ok(await api.post(f"/v1/loyalty/companies/{shop}/redeem-rule", json=value))
    assert ok(await api.get(f"/v1/loyalty/companies/{shop}/rules"))["redeemRule"]["companyId"] == shop

    spent = {"operationId": str(uuid.uuid4()), "companyId": a, "source": "EARN_SOURCE_SESSION"}
    earned = ok(
        await api.post(
            f"/v1/loyalty/members/{member}:earn", json=spent | {"amount": {"currencyCode": "EUR", "units": "12"}}
        )
    )
    assert earned["transaction"]["points"] == "24"
    ok(
        await api.post(
            f"/v1/loyalty/members/{member}:earn", json={"operationId": str(uuid.uuid4()), "companyId": b, "points": "6"}
        )
    )
    account = ok(await api.get(f"/v1/loyalty/members/{member}", params=[("companyIds", a), ("companyIds", b)]))
    assert account["account"]["balance"] == "30"
    only_b = ok(await api.get(f"/v1/loyalty/members/{member}", params={"companyIds": b}))["account"]
    assert only_b["balancesByIssuer"] == [{"companyId": b, "points": "6"}]

    redeem = {"operationId": str(uuid.uuid4()), "companyId": shop, "points": "10"}
    answer = ok(await api.post(f"/v1/loyalty/members/{member}:redeem", json=redeem))
    assert (answer["value"], answer["consumed"]) == (
        {"currencyCode": "EUR", "units": "0", "nanos": 100_000_000},
        [{"issuerCompanyId": a, "points": "10"}],
    )
    reason, metadata, _ = failure(
        await api.post(
            f"/v1/loyalty/members/{member}:redeem", json=redeem | {"operationId": str(uuid.uuid4()), "points": "21"}
        ),
        400,
    )
    assert (reason, metadata) == ("INSUFFICIENT_POINTS", {"available": "20", "requested": "21"})
    target = answer["transaction"]["operationId"]
    back = ok(await api.post(f"/v1/loyalty/transactions/{target}:reverse", json={"operationId": str(uuid.uuid4())}))
    assert back["transaction"]["points"] == "10"
    listed = ok(await api.get(f"/v1/loyalty/members/{member}/transactions", params={"pageSize": 2}))
    assert len(listed["transactions"]) == 2 and listed["nextPageToken"]
