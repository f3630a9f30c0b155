"""The REST gateway served by uvicorn on loopback, in front of the real services (PostgreSQL, NATS)."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid

import grpc
import httpx
import pytest
from google.api import annotations_pb2
from novatrek.catalog.v1 import catalog_pb2
from novatrek.guests.v1 import guests_pb2, guests_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2

from services.gateway.config import CATALOG, GUESTS, RESERVATIONS
from services.gateway.main import run
from tests.helpers import eventually
from tests.integration.booking import future_day
from tests.integration.gateway_fixtures import date_json, failure, gateway_settings, live_gateway, ok


def mesh(reservations_service, guests_service, catalog_service) -> dict[str, str]:
    return {
        RESERVATIONS: reservations_service.address,
        GUESTS: guests_service.address,
        CATALOG: catalog_service.address,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_address():
    """A port bound but not listening: connections are refused, and no other test can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
async def live(reservations_service, guests_service, catalog_service):
    async with live_gateway(gateway_settings(mesh(reservations_service, guests_service, catalog_service))) as running:
        yield running


@pytest.fixture
def rest(live) -> httpx.AsyncClient:
    return live.internal


async def new_guest(rest) -> str:
    body = {"firstName": "Rest", "last_name": "Guest", "email": f"r-{uuid.uuid4().hex[:10]}@example.com"}
    return ok(await rest.post("/v1/guests", json=body))["guest"]["guestId"]


async def new_departure(rest, capacity: int = 20, days: int = 30) -> tuple[str, object]:
    trip = {
        "name": f"Rest trip {uuid.uuid4().hex[:6]}",
        "pricePerPerson": {"currencyCode": "USD", "units": "149", "nanos": 990_000_000},
    }
    trip_id = ok(await rest.post("/v1/trips", json=trip))["trip"]["tripId"]
    day = future_day(days)
    # The path sets departure.trip_id; the body is the departure.
    departure = ok(
        await rest.post(f"/v1/trips/{trip_id}/departures", json={"departureDate": date_json(day), "capacity": capacity})
    )
    assert departure["departure"]["tripId"] == trip_id
    return trip_id, day


async def new_reservation(rest, party_size: int = 2, capacity: int = 20) -> dict:
    guest_id = await new_guest(rest)
    trip_id, day = await new_departure(rest, capacity)
    body = {
        "requestId": str(uuid.uuid4()),
        "guestId": guest_id,
        "tripId": trip_id,
        "tripDate": date_json(day),
        "partySize": party_size,
    }
    return ok(await rest.post("/reservations", json=body))["reservation"]


async def test_every_reservations_endpoint_of_the_seed(rest):
    created = await new_reservation(rest, party_size=3)
    rid = created["reservationId"]
    assert created["status"] == "RESERVATION_STATUS_PENDING" and created["revision"] == 1
    assert created["totalAmount"] == {"currencyCode": "USD", "units": "449", "nanos": 970_000_000}
    assert re.match(r"^\d{4}-\d\d-\d\dT", created["createTime"])
    assert ok(await rest.get(f"/reservations/{rid}"))["reservation"] == created
    code = created["confirmationCode"]
    assert ok(await rest.get("/reservations:lookup", params={"confirmation_code": code}))["reservation"] == created
    day = created["tripDate"]
    found = ok(await rest.get("/reservations", params={"guestId": created["guestId"], "page_size": 10}))
    assert [r["reservationId"] for r in found["reservations"]] == [rid] and found["nextPageToken"] == ""
    by_date = ok(
        await rest.get(
            "/reservations",
            params={
                "trip_id": created["tripId"],
                "tripDateFrom.year": day["year"],
                "trip_date_from.month": day["month"],
                "trip_date_from.day": day["day"],
            },
        )
    )
    assert [r["reservationId"] for r in by_date["reservations"]] == [rid]

    # PATCH: the path names the reservation, the mask is derived from the body's fields.
    patched = ok(await rest.patch(f"/reservations/{rid}", params={"expectedRevision": 1}, json={"partySize": 4}))[
        "reservation"
    ]
    assert (patched["partySize"], patched["revision"], patched["totalAmount"]["units"]) == (4, 2, "599")

    other = await new_guest(rest)
    added = ok(await rest.post(f"/reservations/{rid}/participants", json={"guest_id": other, "waiverSigned": True}))[
        "participant"
    ]
    assert (added["guestId"], added["role"], added["waiverSigned"]) == (other, "guest", True)
    listed = ok(await rest.get(f"/reservations/{rid}/participants"))["participants"]
    assert sorted(p["role"] for p in listed) == ["guest", "lead"]

    revision = ok(await rest.get(f"/reservations/{rid}"))["reservation"]["revision"]
    moved = ok(
        await rest.put(
            f"/reservations/{rid}/status",
            json={"status": "RESERVATION_STATUS_CONFIRMED", "changedBy": "desk-1", "expectedRevision": revision},
        )
    )["reservation"]
    assert moved["status"] == "RESERVATION_STATUS_CONFIRMED" and moved["revision"] == revision + 1
    cancelled = ok(
        await rest.delete(f"/reservations/{rid}", params={"reason": "changed plans", "cancelled_by": "guest"})
    )["reservation"]
    assert cancelled["status"] == "RESERVATION_STATUS_CANCELLED"


async def test_service_errors_map_to_http_statuses(rest):
    reason, _, violations = failure(await rest.post("/reservations", json={"requestId": "x", "partySize": 0}), 400)
    assert reason == "INVALID_ARGUMENT" and {"request_id", "guest_id", "trip_id", "trip_date", "party_size"} <= set(
        violations
    )
    reason, _, _ = failure(await rest.get(f"/reservations/{uuid.uuid4()}"), 404)
    assert reason == "RESERVATION_NOT_FOUND"

    r = await new_reservation(rest, party_size=2, capacity=3)
    stale = {"status": "RESERVATION_STATUS_CONFIRMED", "expectedRevision": 7}
    reason, metadata, _ = failure(await rest.put(f"/reservations/{r['reservationId']}/status", json=stale), 409)
    assert (reason, metadata) == ("REVISION_MISMATCH", {"current_revision": "1"})
    reason, _, _ = failure(
        await rest.put(f"/reservations/{r['reservationId']}/status", json={"status": "RESERVATION_STATUS_COMPLETED"}),
        400,
    )
    assert reason == "ILLEGAL_STATUS_TRANSITION"

    guest_id = await new_guest(rest)
    trip_id, day = await new_departure(rest, capacity=2)
    create = {
        "requestId": str(uuid.uuid4()),
        "guestId": guest_id,
        "tripId": trip_id,
        "tripDate": date_json(day),
        "partySize": 3,
    }
    reason, _, _ = failure(await rest.post("/reservations", json=create), 400)
    assert reason == "SOLD_OUT"
    ok(await rest.post("/reservations", json={**create, "partySize": 1}))
    reason, _, _ = failure(await rest.post("/reservations", json={**create, "partySize": 2}), 422)
    assert reason == "IDEMPOTENCY_KEY_REUSED"

    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    ok(await rest.post("/v1/guests", json={"firstName": "A", "lastName": "B", "email": email}))
    reason, _, _ = failure(await rest.post("/v1/guests", json={"firstName": "C", "lastName": "D", "email": email}), 409)
    assert reason == "GUEST_EMAIL_TAKEN"


async def test_bad_requests_are_refused_before_any_rpc(
    reservations_service, guests_service, catalog_service, dead_address
):
    # trip-catalog is down for this gateway: a 400/413 proves the gateway never called it.
    upstreams = {**mesh(reservations_service, guests_service, catalog_service), CATALOG: dead_address}
    async with live_gateway(gateway_settings(upstreams, max_body_bytes=1024)) as running:
        rest = running.internal
        json = {"Content-Type": "application/json"}
        reason, _, violations = failure(await rest.post("/v1/trips", content=b'{"name": "x",', headers=json), 400)
        assert reason == "MALFORMED_JSON" and "body" in violations
        _, _, violations = failure(await rest.post("/v1/trips", json={"name": "x", "colour": "red"}), 400)
        assert violations == {"trip.colour": "unknown field"}
        _, _, violations = failure(await rest.post("/v1/trips", json={"name": 5, "active": "yes"}), 400)
        assert set(violations) == {"trip.name", "trip.active"}
        _, _, violations = failure(
            await rest.get(f"/v1/trips/{uuid.uuid4()}/availability", params={"seats": "many", "colour": "red"}), 400
        )
        assert violations == {"seats": violations["seats"], "colour": "unknown query parameter"}
        reason, metadata, _ = failure(
            await rest.post("/v1/trips", content=b"{" + b" " * 2048 + b"}", headers=json), 413
        )
        assert (reason, metadata) == ("REQUEST_TOO_LARGE", {"limit_bytes": "1024"})
        failure(await rest.post("/v1/trips", content=b"[]", headers=json), 400)
        oversized = {"Authorization": "Bearer " + "x" * 20_000}
        assert failure(await rest.get(f"/v1/trips/{uuid.uuid4()}", headers=oversized), 431)[0] == "HEADER_TOO_LARGE"
        assert failure(await rest.post("/v1/trips", content=b"{}", headers={"Content-Type": "text/plain"}), 415)

        reason, _, _ = failure(await rest.get(f"/v1/trips/{uuid.uuid4()}"), 503)
        assert reason == "UPSTREAM_UNAVAILABLE"
        ready = await rest.get("/readyz")
        assert ready.status_code == 503 and ready.json()["upstreams"][CATALOG] == "UNAVAILABLE"


async def test_unknown_routes_and_methods(rest, live):
    reason, _, _ = failure(await rest.get("/nowhere"), 404)
    assert reason == "ROUTE_NOT_FOUND"
    failure(await rest.get("/reservations/"), 404)
    response = await rest.post(f"/reservations/{uuid.uuid4()}")
    failure(response, 405)
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    # The seed's reservations surface is internal: the public listener does not route it.
    failure(await live.public.get("/reservations"), 404)
    failure(await live.public.get("/v1/guests"), 404)


async def test_request_id_is_echoed_or_generated(rest):
    response = await rest.get(f"/reservations/{uuid.uuid4()}", headers={"X-Request-Id": "partner-req-42"})
    assert response.headers["x-request-id"] == "partner-req-42"
    generated = (await rest.get("/nowhere")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert (await rest.get("/nowhere", headers={"X-Request-Id": "bad id with spaces"})).headers[
        "x-request-id"
    ] != "bad id with spaces"


class EchoGuests(guests_pb2_grpc.GuestServiceServicer):
    """Answers GetGuest with what reached it: metadata in the names, the deadline left in the phone."""

    async def GetGuest(self, request, context):
        metadata = dict(context.invocation_metadata())
        seen = ";".join(
            f"{k}={metadata[k]}"
            for k in sorted(metadata)
            if k in {"authorization", "idempotency-key", "x-request-id", "traceparent", "cookie"}
        )
        return guests_pb2.GetGuestResponse(
            guest=guests_pb2.Guest(guest_id=request.guest_id, first_name=seen, phone=f"{context.time_remaining():.3f}")
        )


@pytest.fixture
async def echo_guests():
    server = grpc.aio.server()
    guests_pb2_grpc.add_GuestServiceServicer_to_server(EchoGuests(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(None)


async def test_headers_and_deadline_reach_the_upstream(echo_guests, reservations_service, catalog_service):
    upstreams = {RESERVATIONS: reservations_service.address, CATALOG: catalog_service.address, GUESTS: echo_guests}
    async with live_gateway(gateway_settings(upstreams, max_timeout_s=30)) as running:
        sent = {
            "Authorization": "Bearer k-123",
            "Idempotency-Key": "idem-1",
            "X-Request-Id": "rid-1",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "Cookie": "secret=1",
            "X-Request-Timeout": "5",
        }
        guest = ok(await running.internal.get("/v1/guests/g-1", headers=sent))["guest"]
        assert guest["guestId"] == "g-1"
        forwarded = dict(pair.split("=", 1) for pair in guest["firstName"].split(";"))
        assert {k: forwarded[k] for k in ("authorization", "idempotency-key", "x-request-id")} == {
            "authorization": "Bearer k-123",
            "idempotency-key": "idem-1",
            "x-request-id": "rid-1",
        }
        assert "cookie" not in forwarded
        # the trace goes on (same trace id); its parent is the gateway's span when one is recorded
        assert forwarded["traceparent"].split("-")[1] == sent["traceparent"].split("-")[1]
        assert 4.0 < float(guest["phone"]) <= 5.2  # gRPC rounds the timeout it sends up
        capped = ok(await running.internal.get("/v1/guests/g-2", headers={"Grpc-Timeout": "5M"}))["guest"]
        assert 29.0 < float(capped["phone"]) <= 30.5
        default = ok(await running.internal.get("/v1/guests/g-3"))["guest"]
        assert 9.0 < float(default["phone"]) <= 10.3
        _, _, violations = failure(await running.internal.get("/v1/guests/g-4", headers={"Grpc-Timeout": "soon"}), 400)
        assert "Grpc-Timeout" in violations


async def test_expired_deadline_is_504(rest):
    reason, _, _ = failure(await rest.get(f"/reservations/{uuid.uuid4()}", headers={"Grpc-Timeout": "1u"}), 504)
    assert reason == "DEADLINE_EXCEEDED"


async def test_rate_limit_answers_429_with_retry_after(reservations_service, guests_service, catalog_service):
    settings = gateway_settings(
        mesh(reservations_service, guests_service, catalog_service), rate_limit_per_s=0.25, rate_limit_burst=3
    )
    async with live_gateway(settings) as running:
        rest, key = running.internal, {"Authorization": "Bearer partner-a"}
        for _ in range(3):
            ok(await rest.get("/v1/trips", headers=key))
        limited = await rest.get("/v1/trips", headers=key)
        reason, _, _ = failure(limited, 429)
        assert reason == "RATE_LIMITED" and 1 <= int(limited.headers["retry-after"]) <= 4
        ok(await rest.get("/v1/trips", headers={"Authorization": "Bearer partner-b"}))  # its own bucket
        ok(await rest.get("/v1/trips"))  # no key: the client IP's bucket
        assert (await rest.get("/healthz")).status_code == 200  # probes are never limited


def annotated_paths(*modules) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every google.api.http rule, read straight from the descriptors; a
    variable is named by its leaf field's JSON name (`{reservation.reservation_id}` -> `{reservationId}`)."""
    leaf = lambda m: re.sub(r"_(\w)", lambda c: c[1].upper(), m[1].split(".")[-1])
    found = set()
    for module in modules:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                for r in [rule, *rule.additional_bindings]:
                    kind = r.WhichOneof("pattern")
                    found.add((kind, re.sub(r"\{([\w.]+)\}", lambda m: "{" + leaf(m) + "}", getattr(r, kind))))
    return found


def ready_answer(rest):
    """A predicate for `eventually`: the gateway's /readyz answer once it is 200."""

    async def answer():
        ready = await rest.get("/readyz")
        return ready if ready.status_code == 200 else None

    return answer


async def test_openapi_docs_and_probes(rest):
    spec = ok(await rest.get("/openapi.json"))
    assert spec["openapi"].startswith("3.")
    documented = {(method, path) for path, methods in spec["paths"].items() for method in methods}
    assert documented == annotated_paths(reservations_pb2, guests_pb2, catalog_pb2)
    assert len(documented) == 31  # the seed's reservations, guests, and catalog with its sessions
    create = spec["paths"]["/reservations"]["post"]
    assert create["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/google.rpc.Status"
    }
    reservation = spec["components"]["schemas"]["novatrek.reservations.v1.Reservation"]["properties"]
    assert reservation["status"]["enum"][1] == "RESERVATION_STATUS_PENDING"
    assert reservation["createTime"] == {
        "type": "string",
        "format": "date-time",
        "description": "RFC 3339, UTC (Z)",
        "readOnly": True,
    }
    assert reservation["totalAmount"] == {
        "allOf": [{"$ref": "#/components/schemas/google.type.Money"}],
        "readOnly": True,
    }
    search = {p["name"] for p in spec["paths"]["/reservations"]["get"]["parameters"] if p.get("in") == "query"}
    assert {"pageSize", "guestId", "tripDateFrom.year", "tripDateTo.day"} <= search
    docs = await rest.get("/docs")
    assert docs.status_code == 200 and "/reservations/{reservationId}/status" in docs.text
    assert ok(await rest.get("/healthz")) == {"status": "ok"}
    ready = await eventually(ready_answer(rest))  # a service's health follows its database and broker: it may lag
    assert ok(ready) == {"ready": True, "upstreams": {RESERVATIONS: "SERVING", GUESTS: "SERVING", CATALOG: "SERVING"}}


async def test_run_serves_until_cancelled(reservations_service, guests_service, catalog_service):
    public, internal = free_port(), free_port()
    settings = gateway_settings(
        mesh(reservations_service, guests_service, catalog_service), port=public, internal_port=internal
    )
    task = asyncio.create_task(run(settings))
    async with httpx.AsyncClient(timeout=2) as client:

        async def listening() -> bool:  # the internal listener starts last
            assert not task.done(), task.exception()
            try:
                return (await client.get(f"http://127.0.0.1:{internal}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(listening, interval_s=0.02)
        assert (await client.get(f"http://127.0.0.1:{internal}/v1/trips", params={"page_size": 1})).status_code == 200
        assert (await client.get(f"http://127.0.0.1:{public}/healthz")).json() == {"status": "ok"}
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(httpx.TransportError):
            await client.get(f"http://127.0.0.1:{public}/healthz")
