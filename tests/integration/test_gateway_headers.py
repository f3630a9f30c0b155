"""What a hostile client sends in headers (issue 14): oversized headers, a wrong Content-Type, headers the
document and the gateway must agree on. The gateway (uvicorn on loopback) in front of real gRPC servers."""

from __future__ import annotations

import re
import socket

import grpc
import httpx
import pytest
from novatrek.guests.v1 import guests_pb2, guests_pb2_grpc

from services.gateway.config import CATALOG, GUESTS, RESERVATIONS
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok, partner_gateway_settings
from tests.integration.test_gateway_partners import bearer, booking_body, register


@pytest.fixture(scope="module")
async def api(partners_service):
    async with live_gateway(partner_gateway_settings(partners_service.address)) as running:
        yield running.public


@pytest.fixture
def dead_partners():
    """A port bound but not listening: any RPC would fail with 503."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def assert_too_large(response: httpx.Response, reason: str, metadata: dict) -> None:
    got_reason, got_metadata, _ = failure(response, 431)
    assert (got_reason, got_metadata) == (reason, metadata)
    assert "metadata" not in response.json()["message"]  # never gRPC's own text


async def test_an_oversized_header_is_431_naming_it(api):
    _, key = await register(api)
    huge = "x" * 20_000
    assert_too_large(
        await api.get("/v1/bookings", headers={"Authorization": f"Bearer {huge}"}),
        "HEADER_TOO_LARGE",
        {"header": "Authorization", "limit_bytes": "2048"},
    )
    assert_too_large(
        await api.get("/v1/bookings", headers={**bearer(key), "baggage": f"k={huge}"}),
        "HEADER_TOO_LARGE",
        {"header": "baggage", "limit_bytes": "2048"},
    )
    for _ in range(10):  # between gRPC's soft and hard limits its refusals were random: ours is not
        assert_too_large(
            await api.post("/v1/bookings", headers=bearer(key, "k" * 10_000), json={}),
            "HEADER_TOO_LARGE",
            {"header": "Idempotency-Key", "limit_bytes": "255"},
        )
    each_allowed = {
        "Authorization": "Bearer " + "a" * 2000,
        "baggage": "b=" + "b" * 2000,
        "tracestate": "c=" + "c" * 500,
    }
    assert_too_large(await api.get("/v1/bookings", headers=each_allowed), "HEADERS_TOO_LARGE", {"limit_bytes": "4096"})


async def test_header_checks_and_content_type_are_decided_before_any_rpc(dead_partners):
    async with live_gateway(partner_gateway_settings(dead_partners)) as running:
        api, body = running.public, {"partySize": 1}
        assert_too_large(
            await api.get("/v1/bookings", headers={"Authorization": "Bearer " + "x" * 3000}),
            "HEADER_TOO_LARGE",
            {"header": "Authorization", "limit_bytes": "2048"},
        )
        reason, _, violations = failure(await api.post("/v1/bookings", headers=bearer("k"), json=body), 400)
        assert reason == "INVALID_ARGUMENT" and "idempotency-key" in violations
        reason, _, violations = failure(
            await api.post("/v1/bookings", headers=bearer("k", "has space"), json=body), 400
        )
        assert "idempotency-key" in violations
        refused = await api.post("/v1/bookings", headers={**bearer("k", "i"), "Content-Type": "text/plain"}, json=body)
        assert failure(refused, 415)[0] == "UNSUPPORTED_MEDIA_TYPE"
        failure(await api.get("/v1/bookings", headers=bearer("k")), 503)  # the upstream is down indeed


async def test_a_body_must_be_json_by_its_content_type(api, guests_stub, catalog_stub):
    _, key = await register(api)
    body = await booking_body(guests_stub, catalog_stub, party_size=1)
    raw = httpx.Request("POST", "/", json=body).content
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded", "", "json"):
        headers = {**bearer(key, "ct"), **({"Content-Type": content_type} if content_type else {})}
        reason, metadata, _ = failure(await api.post("/v1/bookings", headers=headers, content=raw), 415)
        assert reason == "UNSUPPORTED_MEDIA_TYPE" and metadata["accepted"] == "application/json, application/*+json"
    # None of them claimed the key: the same key books now, with parameters on the media type.
    headers = {**bearer(key, "ct"), "Content-Type": "Application/JSON; charset=UTF-8"}
    booking = ok(await api.post("/v1/bookings", headers=headers, content=raw))["booking"]
    cancel = f"/v1/bookings/{booking['bookingId']}:cancel"
    ok(await api.post(cancel, headers={**bearer(key), "Content-Type": "application/vnd.novatrek+json"}, content=b"{}"))
    ok(await api.post(cancel, headers=bearer(key)))  # no body: no Content-Type needed
    # a Content-Type that is not JSON is refused even without a body
    assert failure(await api.post(cancel, headers={**bearer(key), "Content-Type": "text/plain"}), 415)[0]
    assert len(ok(await api.get("/v1/bookings", headers=bearer(key)))["bookings"]) == 1


async def test_the_document_says_what_the_gateway_does(api):
    spec = ok(await api.get("/openapi.json"))
    headers = {
        (path, method): {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    }
    assert headers["/v1/bookings", "post"]["Idempotency-Key"]["required"] is True
    required = {k for k, h in headers.items() for p in h.values() if p["required"]}
    assert required == {("/v1/bookings", "post")}
    rid = "ota/81723@eu+1=a"
    assert re.fullmatch(headers["/v1/bookings", "get"]["X-Request-Id"]["schema"]["pattern"], rid)
    assert (await api.get("/v1/bookings", headers={"X-Request-Id": rid})).headers["x-request-id"] == rid
    create = spec["paths"]["/v1/bookings"]["post"]
    assert "415" in create["responses"] and "application/json" in create["requestBody"]["content"]


class TinyMetadataGuests(guests_pb2_grpc.GuestServiceServicer):
    async def GetGuest(self, request, context):
        return guests_pb2.GetGuestResponse(guest=guests_pb2.Guest(guest_id=request.guest_id))


@pytest.fixture
async def tiny_metadata_guests():
    """A real gRPC server that accepts far less metadata than the gateway forwards (1 KiB)."""
    limits = [("grpc.max_metadata_size", 1024), ("grpc.absolute_max_metadata_size", 1024)]
    server = grpc.aio.server(options=limits)
    guests_pb2_grpc.add_GuestServiceServicer_to_server(TinyMetadataGuests(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def test_metadata_refused_by_an_upstream_is_not_429(tiny_metadata_guests, reservations_service, catalog_service):
    upstreams = {RESERVATIONS: reservations_service.address, CATALOG: catalog_service.address}
    async with live_gateway(gateway_settings({**upstreams, GUESTS: tiny_metadata_guests})) as running:
        ok(await running.internal.get("/v1/guests/g-1"))
        refused = await running.internal.get("/v1/guests/g-2", headers={"Authorization": "Bearer " + "x" * 1500})
        reason, _, _ = failure(refused, 431)
        assert reason == "HEADERS_TOO_LARGE" and "metadata" not in refused.json()["message"]
