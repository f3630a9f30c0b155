"""Passes on the gateway's internal listener, in front of the real service: a product, an entitlement,
a consume and a restore over REST/JSON, and a refusal as its HTTP status and reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway.config import PASSES
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok


@pytest.fixture
async def live(passes_service):
    async with live_gateway(gateway_settings({PASSES: passes_service.address})) as running:
        yield running


async def test_a_pass_is_sold_used_and_given_back_over_rest(live):
    product = {
        "requestId": str(uuid.uuid4()),
        "companyId": str(uuid.uuid4()),
        "name": "Two kayak sessions",
        "sessions": 2,
        "validityDays": 30,
        "price": {"currencyCode": "EUR", "units": "40"},
    }
    made = ok(await live.internal.post("/v1/pass-products", json=product))["product"]
    assert ok(await live.internal.get(f"/v1/pass-products/{made['productId']}"))["product"] == made
    customer = str(uuid.uuid4())
    issue = {"requestId": str(uuid.uuid4()), "productId": made["productId"], "customerId": customer}
    entitlement = ok(await live.internal.post("/v1/entitlements", json=issue))["entitlement"]
    listed = ok(await live.internal.get("/v1/entitlements", params={"customerId": customer}))["entitlements"]
    assert [e["entitlementId"] for e in listed] == [entitlement["entitlementId"]]

    path, booking = f"/v1/entitlements/{entitlement['entitlementId']}", str(uuid.uuid4())
    use = {"bookingId": booking, "customerId": customer, "activityId": str(uuid.uuid4())}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    used = ok(await live.internal.post(f"{path}:consume", json=use | {"sessionStart": tomorrow}))
    assert (used["entitlement"]["sessionsRemaining"], used["usage"]["status"]) == (1, "USAGE_STATUS_CONSUMED")
    expired = use | {"bookingId": str(uuid.uuid4()), "sessionStart": "2099-01-01T09:00:00Z"}
    reason, _, _ = failure(await live.internal.post(f"{path}:consume", json=expired), 400)
    assert reason == "ENTITLEMENT_EXPIRED"
    back = ok(await live.internal.post(f"{path}:restore", json={"bookingId": booking}))
    assert back["restored"] is True and back["entitlement"]["sessionsRemaining"] == 2
