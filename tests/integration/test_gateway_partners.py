"""The partner REST surface end to end: the gateway (uvicorn on loopback, public listener) in front of
the real partner-integrations and its dependencies (PostgreSQL, NATS)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date, timedelta

import httpx
import pytest

from services.chassis.protoconv import utcnow
from tests.helpers import FakeClock
from tests.integration.booking import new_departure, new_guest, seats_available
from tests.integration.gateway_fixtures import date_json, failure, live_gateway, ok, partner_gateway_settings
from tests.integration.partner_fixtures import ADMIN_TOKEN, partners_with  # noqa: F401 (fixture)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PLAN = {"basis": "TIER_BASIS_BOOKING_COUNT", "tiers": [{"threshold": "0", "rate": "0.10"}]}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def bearer(key: str, idempotency_key: str | None = None) -> dict:
    return {"Authorization": f"Bearer {key}"} | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})


def partner_json(**fields) -> dict:
    return {"name": f"OTA {uuid.uuid4().hex[:6]}", "contactEmail": "ops@ota.example", "commissionPlan": PLAN, **fields}


async def send(api: httpx.AsyncClient, method: str, url: str, headers: dict, **kwargs) -> httpx.Response:
    """Every call carries its own X-Request-Id, which every answer (errors too) must echo."""
    rid = f"t-{uuid.uuid4().hex[:12]}"
    response = await api.request(method, url, headers={**headers, "X-Request-Id": rid}, **kwargs)
    assert response.headers["x-request-id"] == rid
    return response


async def register(api: httpx.AsyncClient) -> tuple[str, str]:
    answer = ok(await send(api, "POST", "/v1/partners", ADMIN, json={"partner": partner_json()}))
    return answer["partner"]["partnerId"], answer["apiKey"]


async def booking_body(guests_stub, catalog_stub, capacity: int = 20, party_size: int = 2) -> dict:
    """A new guest on a new departure (USD 149.99 a seat), as the JSON of CreatePartnerBooking."""
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=capacity)
    return {"guestId": guest_id, "tripId": trip_id, "tripDate": date_json(day), "partySize": party_size}


@pytest.fixture(scope="module")
async def api(partners_service):
    async with live_gateway(partner_gateway_settings(partners_service.address)) as running:
        yield running.public


@pytest.fixture
async def partner(api) -> tuple[str, str]:
    return await register(api)


async def test_every_partner_endpoint(api, guests_stub, catalog_stub):
    registered = ok(await send(api, "POST", "/v1/partners", ADMIN, json={"partner": partner_json()}))
    me, key = registered["partner"], registered["apiKey"]
    assert key.startswith(me["apiKeyPrefix"] + "_") and len(registered["webhookSecret"]) >= 32
    assert me["commissionPlan"] == PLAN and RFC3339.match(me["createTime"])

    body = await booking_body(guests_stub, catalog_stub)
    made = [
        ok(
            await send(
                api, "POST", "/v1/bookings", bearer(key, f"ep-{n}"), json={**body, "partnerReference": f"OTA-{n}"}
            )
        )["booking"]
        for n in range(3)
    ]
    first = made[0]
    assert (first["status"], first["partnerId"], first["partnerReference"], first["tripDate"]) == (
        "PARTNER_BOOKING_STATUS_CONFIRMED",
        me["partnerId"],
        "OTA-0",
        body["tripDate"],
    )
    assert first["grossAmount"] == {"currencyCode": "USD", "units": "299", "nanos": 980_000_000}
    assert (first["commission"], first["commissionRate"]) == (
        {"currencyCode": "USD", "units": "30", "nanos": 0},
        "0.10",
    )
    assert RFC3339.match(first["createTime"]) and "cancelTime" not in first
    assert ok(await send(api, "GET", f"/v1/bookings/{first['bookingId']}", bearer(key)))["booking"] == first

    pages, token = [], ""
    while True:  # newest first, two at a time
        page = ok(await send(api, "GET", "/v1/bookings", bearer(key), params={"pageSize": 2, "pageToken": token}))
        pages.append([b["bookingId"] for b in page["bookings"]])
        if not (token := page["nextPageToken"]):
            break
    assert pages == [[made[2]["bookingId"], made[1]["bookingId"]], [first["bookingId"]]]

    cancelled = ok(
        await send(
            api, "POST", f"/v1/bookings/{first['bookingId']}:cancel", bearer(key), json={"reason": "plans changed"}
        )
    )["booking"]
    assert cancelled["status"] == "PARTNER_BOOKING_STATUS_CANCELLED" and RFC3339.match(cancelled["cancelTime"])
    for status, expected in (("CANCELLED", [first]), ("CONFIRMED", [made[2], made[1]])):
        listed = ok(
            await send(api, "GET", "/v1/bookings", bearer(key), params={"status": f"PARTNER_BOOKING_STATUS_{status}"})
        )
        assert [b["bookingId"] for b in listed["bookings"]] == [b["bookingId"] for b in expected]

    today = utcnow().date()  # a day either side: the run may straddle midnight UTC
    span = {"startDate": date_json(today - timedelta(days=1)), "endDate": date_json(today + timedelta(days=1))}
    run = ok(await send(api, "POST", "/v1/reconciliations", bearer(key), json=span))
    assert (run["bookingsChecked"], run["discrepancies"], str(uuid.UUID(run["reconciliationId"]))) == (
        3,
        [],
        run["reconciliationId"],
    )

    rotated = ok(await send(api, "POST", f"/v1/partners/{me['partnerId']}:rotateApiKey", bearer(key), json={}))
    assert rotated["apiKey"] != key and RFC3339.match(rotated["previousKeyExpireTime"])
    assert len(ok(await send(api, "GET", "/v1/bookings", bearer(rotated["apiKey"])))["bookings"]) == 3


async def test_the_auth_matrix(api, partner, guests_stub, catalog_stub):
    partner_id, key = partner
    _, other_key = await register(api)
    body = await booking_body(guests_stub, catalog_stub)
    booking_id = ok(await send(api, "POST", "/v1/bookings", bearer(key, "mine"), json=body))["booking"]["bookingId"]
    # Calls on this partner's own things: another partner finds nothing there.
    own = [
        ("GET", f"/v1/bookings/{booking_id}", None, "BOOKING_NOT_FOUND"),
        ("POST", f"/v1/bookings/{booking_id}:cancel", {}, "BOOKING_NOT_FOUND"),
        ("POST", f"/v1/partners/{partner_id}:rotateApiKey", {}, "PARTNER_NOT_FOUND"),
    ]
    calls = [(m, u, j) for m, u, j, _ in own] + [
        ("POST", "/v1/bookings", body),
        ("GET", "/v1/bookings", None),
        ("POST", "/v1/reconciliations", {"startDate": body["tripDate"], "endDate": body["tripDate"]}),
        ("POST", "/v1/partners", {"partner": partner_json()}),
    ]
    anonymous = [
        ({}, "CREDENTIALS_MISSING"),
        ({"Authorization": f"Basic {key}"}, "CREDENTIALS_MISSING"),
        (bearer("ntk_000000000000_unknown"), "API_KEY_INVALID"),
        (bearer(key + "x"), "API_KEY_INVALID"),
        (bearer("garbage"), "API_KEY_INVALID"),
    ]
    for method, url, json in calls:
        for headers, reason in anonymous:
            assert (
                failure(await send(api, method, url, {**headers, "Idempotency-Key": "anon"}, json=json), 401)[0]
                == reason
            )
    for method, url, json, reason in own:
        assert failure(await send(api, method, url, bearer(other_key), json=json), 404)[0] == reason
    assert (
        failure(await send(api, "POST", "/v1/partners", bearer(key), json={"partner": partner_json()}), 403)[0]
        == "ADMIN_REQUIRED"
    )
    assert (
        failure(await send(api, "POST", "/v1/bookings", bearer(ADMIN_TOKEN, "adm"), json=body), 403)[0]
        == "PARTNER_REQUIRED"
    )
    # None of it touched the booking.
    assert (
        ok(await send(api, "GET", f"/v1/bookings/{booking_id}", bearer(key)))["booking"]["status"]
        == "PARTNER_BOOKING_STATUS_CONFIRMED"
    )


async def test_a_rotated_key_works_through_the_grace_period_only(partners_with):
    clock = FakeClock()
    running, _ = await partners_with(clock=clock, key_grace_period_s=3600)
    async with live_gateway(partner_gateway_settings(running.address)) as own:
        partner_id, old = await register(own.public)
        new = ok(await send(own.public, "POST", f"/v1/partners/{partner_id}:rotateApiKey", bearer(old), json={}))[
            "apiKey"
        ]
        clock.advance(seconds=3599)
        for key in (new, old):  # the old one is in the last second of its grace period
            ok(await send(own.public, "GET", "/v1/bookings", bearer(key)))
        clock.advance(seconds=1)
        assert failure(await send(own.public, "GET", "/v1/bookings", bearer(old)), 401)[0] == "API_KEY_INVALID"
        ok(await send(own.public, "GET", "/v1/bookings", bearer(new)))


async def test_idempotency_key_over_rest(api, partner, guests_stub, catalog_stub):
    _, key = partner
    body = await booking_body(guests_stub, catalog_stub)
    reason, _, violations = failure(await send(api, "POST", "/v1/bookings", bearer(key), json=body), 400)
    assert reason == "INVALID_ARGUMENT" and "idempotency-key" in violations
    first = await send(api, "POST", "/v1/bookings", bearer(key, "same"), json=body)
    again = await send(api, "POST", "/v1/bookings", bearer(key, "same"), json=body)
    assert ok(first) and again.content == first.content
    assert (
        failure(await send(api, "POST", "/v1/bookings", bearer(key, "same"), json={**body, "partySize": 3}), 422)[0]
        == "IDEMPOTENCY_KEY_REUSED"
    )


async def test_a_storm_on_one_key_books_once(api, partner, guests_stub, catalog_stub):
    _, key = partner
    body = await booking_body(guests_stub, catalog_stub, capacity=30, party_size=1)
    answers = await asyncio.gather(
        *(send(api, "POST", "/v1/bookings", bearer(key, "storm"), json=body) for _ in range(20))
    )
    booked = {a.content for a in answers if a.status_code == 200}
    assert len(booked) == 1  # every 200 is the same bytes; the others were refused while the first was in flight
    assert all(failure(a, 409)[0] == "IDEMPOTENCY_KEY_IN_USE" for a in answers if a.status_code != 200)
    assert len(ok(await send(api, "GET", "/v1/bookings", bearer(key)))["bookings"]) == 1
    assert await seats_available(catalog_stub, body["tripId"], date(**body["tripDate"])) == 29


async def test_refusals_are_status_json_and_reach_no_booking(api, partner, guests_stub, catalog_stub):
    _, key = partner
    body = await booking_body(guests_stub, catalog_stub, capacity=2, party_size=3)
    reason, metadata, _ = failure(await send(api, "POST", "/v1/bookings", bearer(key, "sold-out"), json=body), 400)
    assert (reason, metadata) == ("SOLD_OUT", {"seats_available": "2"})
    reason, _, violations = failure(
        await send(
            api,
            "POST",
            "/v1/bookings",
            {**bearer(key, "early"), "Content-Type": "application/json"},
            content=b'{"guestId": ',
        ),
        400,
    )
    assert reason == "MALFORMED_JSON" and "body" in violations
    _, _, violations = failure(
        await send(api, "POST", "/v1/bookings", bearer(key, "early"), json={**body, "colour": "red"}), 400
    )
    assert violations == {"colour": "unknown field"}
    # NUL reached PostgreSQL and was a 500 once; the service now refuses control characters.
    for field, proto_name in (("guestFirstName", "guest_first_name"), ("partnerReference", "partner_reference")):
        _, _, violations = failure(
            await send(api, "POST", "/v1/bookings", bearer(key, "nul"), json={**body, field: "a\x00b"}), 400
        )
        assert violations == {proto_name: "must not contain control characters"}
    plan = {"basis": "TIER_BASIS_BOOKING_COUNT", "tiers": [{"threshold": "0", "rate": "NaN"}]}
    assert (
        failure(
            await send(api, "POST", "/v1/partners", ADMIN, json={"partner": partner_json(commissionPlan=plan)}), 400
        )[0]
        == "INVALID_ARGUMENT"
    )
    # The gateway refused the first two itself: their key was never claimed, so a valid booking may use it.
    assert (
        ok(await send(api, "POST", "/v1/bookings", bearer(key, "early"), json={**body, "partySize": 1}))["booking"][
            "partySize"
        ]
        == 1
    )
    assert len(ok(await send(api, "GET", "/v1/bookings", bearer(key)))["bookings"]) == 1


async def test_rate_limit_is_per_partner_and_recovers(api, partners_service):
    (_, first), (_, second), clock = await register(api), await register(api), FakeClock()
    async with live_gateway(
        partner_gateway_settings(partners_service.address, rate_limit_per_s=2.0, rate_limit_burst=5), clock.monotonic
    ) as limited:
        burst = await asyncio.gather(*(send(limited.public, "GET", "/v1/bookings", bearer(first)) for _ in range(8)))
        assert sorted(r.status_code for r in burst) == [200] * 5 + [429] * 3
        refused = [r for r in burst if r.status_code == 429]
        assert all(failure(r, 429)[0] == "RATE_LIMITED" for r in refused)
        retry_after = {int(r.headers["retry-after"]) for r in refused}
        assert retry_after == {1}  # the clock stood still: the bucket is empty, one token comes in 0.5 s
        for _ in range(5):  # another partner has a bucket of its own
            ok(await send(limited.public, "GET", "/v1/bookings", bearer(second)))
        assert failure(await send(limited.public, "GET", "/v1/bookings", bearer(first)), 429)[0] == "RATE_LIMITED"
        clock.advance(seconds=1)
        ok(await send(limited.public, "GET", "/v1/bookings", bearer(first)))
