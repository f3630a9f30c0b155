"""schemathesis against each listener's own /openapi.json on a live uvicorn server, in front of the real
services: whatever the document allows, nothing answers 5xx; on the public listener (the partner API and
the client surface) every answer also matches the document."""

from __future__ import annotations

import asyncio
import uuid

from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.chassis.protoconv import utcnow
from services.gateway.config import BOOKINGS, INVENTORY, ORDERS, PARTNERS
from tests.integration.booking import new_departure, new_guest
from tests.integration.client_fixtures import CLIENT_KEY, booking_upstream, customer_token  # noqa: F401 (fixture)
from tests.integration.gateway_fixtures import date_json, fuzz, gateway_settings, live_gateway
from tests.integration.partner_fixtures import ADMIN_TOKEN, as_key, booking_request, register
from tests.integration.test_gateway import mesh


async def fuzz_live(client, checks: list, prepare=None) -> list[str]:
    base_url = str(client.base_url).rstrip("/")
    spec = (await client.get("/openapi.json")).json()
    # schemathesis is synchronous: it runs in a thread while this loop serves the gateway and services.
    return await asyncio.wait_for(asyncio.to_thread(fuzz, base_url, spec, checks, prepare), timeout=90)


def merge(body: dict, known: dict) -> dict:
    """`known` over `body`, object by object: what is not known stays generated."""
    return {
        **body,
        **{
            k: merge(body[k], v) if isinstance(v, dict) and isinstance(body.get(k), dict) else v
            for k, v in known.items()
        },
    }


async def test_no_internal_operation_answers_a_server_error(
    reservations_service, guests_service, catalog_service, orders_service, inventory_service
):
    upstreams = mesh(reservations_service, guests_service, catalog_service)
    upstreams |= {ORDERS: orders_service.address, INVENTORY: inventory_service.address}
    async with live_gateway(gateway_settings(upstreams)) as running:
        failures = await fuzz_live(running.internal, [not_a_server_error])
    assert not failures, "\n\n".join(failures)


async def test_the_public_surface_matches_its_document(
    partners_service, partners_stub, guests_stub, catalog_stub, booking_upstream
):
    _, key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=500)
    booking = (
        await partners_stub.CreatePartnerBooking(
            booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, "seed")
        )
    ).booking
    today = date_json(utcnow().date())
    plan = {"basis": "TIER_BASIS_BOOKING_COUNT", "tiers": [{"threshold": "0", "rate": "0.1"}]}
    known = {
        "POST /v1/bookings": {"guestId": guest_id, "tripId": trip_id, "tripDate": date_json(day), "partySize": 1},
        "POST /v1/partners": {
            "partner": {"contactEmail": "fuzz@ota.example", "webhookUrl": "", "commissionPlan": plan}
        },
        "POST /v1/reconciliations": {"startDate": today, "endDate": today},
    }

    customer = customer_token(str(uuid.uuid4()), ttl_s=3600)

    def credential(path: str) -> dict[str, str]:
        """The client surface's customer token, nothing on its guest path, else a partner's key (the admin's
        for RegisterPartner: only it gets past that door)."""
        if path.startswith("/api/client/guest/"):
            return {}
        if path.startswith("/api/client/"):
            return {"Authorization": f"Bearer {customer}"}
        return {"Authorization": f"Bearer {ADMIN_TOKEN if path == '/v1/partners' else key}"}

    def prepare(case: Case, use_known: bool) -> None:
        # A fresh Idempotency-Key each request: no replay hides a code path.
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = {**headers, **credential(case.operation.path), "Idempotency-Key": f"fuzz-{uuid.uuid4()}"}
        if use_known and "bookingId" in (case.path_parameters or {}) and case.operation.path.startswith("/v1/"):
            case.path_parameters["bookingId"] = booking.booking_id
        if use_known and isinstance(case.body, dict):
            case.body = merge(case.body, known.get(case.operation.label, {}))

    checks = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
    upstreams = {PARTNERS: partners_service.address, BOOKINGS: booking_upstream.address}
    async with live_gateway(
        gateway_settings(upstreams, internal_enabled=False, client_token_key=CLIENT_KEY)
    ) as running:
        failures = await fuzz_live(running.public, checks, prepare)
    assert not failures, "\n\n".join(failures)
    assert {c.method for c in booking_upstream.calls} >= {"ListMyBookings", "CreateGuestBooking", "PayBooking"}
