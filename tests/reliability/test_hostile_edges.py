"""Scenario 6, the edges: oversized requests refused by the size limits (gRPC and both gateway
listeners), and SQL-ish and Unicode edge cases stored and returned intact through REST, gRPC and
the databases."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import descriptor_pool
from novatrek.guests.v1 import guests_pb2
from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.reservations.v1 import reservations_pb2 as res

from services.gateway.config import PARTNERS
from tests.helpers import fails
from tests.integration.booking import new_departure, new_guest
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok
from tests.integration.partner_fixtures import as_key, register
from tests.integration.test_gateway import mesh
from tests.reliability.hostile import running  # noqa: F401 (fixture)
from tests.reliability.storms import bearer, booking_json, rows

# None has leading or trailing white space: text fields are trimmed on the way in, by design.
EDGE_TEXT = {
    "sql": "Robert'); DROP TABLE guests;--",
    "emoji": "Zoë 😀🏔️ 👩‍👩‍👧‍👦",
    "rtl": "שלום \u202eعالم\u202c مرحبا",
    "combining": "Ame\u0301lie\u0301 Z\u0351\u0352a\u0353l\u0354g\u0355o",
    "astral": "𝕬𝖉𝖆 \U0001f600 \U00020000\U0002a6d6",
    "max_length": "𝕏" * 100,  # 100 characters, 400 bytes: the limit counts characters, as the columns do
}


@pytest.fixture(scope="module")
async def gateway(reservations_service, guests_service, catalog_service, partners_service):
    """Both listeners: the internal one (guests, trips, reservations) and the public partner one."""
    upstreams = {**mesh(reservations_service, guests_service, catalog_service), PARTNERS: partners_service.address}
    async with live_gateway(gateway_settings(upstreams, max_body_bytes=64 * 1024)) as running:
        yield running


async def test_what_the_fuzz_found_stays_fixed(reservations_stub, running):
    # An unknown status number in a search filter was INTERNAL (None.value).
    failed = await fails(reservations_stub.SearchReservations(res.SearchReservationsRequest(status=2763)))
    assert (failed.code, failed.violations) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"status": "must be a known reservation status"},
    )
    # Bytes that are no request were grpc's UNKNOWN, with the parser's exception in the message.
    failed = await fails(
        running["guests"].channel.unary_unary("/novatrek.guests.v1.GuestService/GetGuest")(b"\xff", timeout=5)
    )
    assert (failed.code, failed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST")


@pytest.mark.parametrize("name", ["guests", "catalog", "reservations", "payments", "notifications", "partners"])
async def test_a_request_over_the_message_limit_is_resource_exhausted(name, running):
    server = running[name]
    service = descriptor_pool.Default().FindServiceByName(server.runtime.service_names[0])
    call = server.channel.unary_unary(f"/{service.full_name}/{service.methods[0].name}")
    failed = await fails(call(b"x" * (server.runtime.settings.max_message_bytes + 1), timeout=10))
    assert failed.code == grpc.StatusCode.RESOURCE_EXHAUSTED, failed


async def test_a_body_over_the_limit_is_413_on_both_listeners(gateway, partners_stub):
    _, key = await register(partners_stub)
    limit = gateway.gateway.settings.max_body_bytes
    big = b'{"pad": "' + b"x" * limit + b'"}'

    async def streamed():  # no Content-Length: the limit holds while the body streams in
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    for api, path, headers in (
        (gateway.public, "/v1/bookings", bearer(key, "big")),
        (gateway.internal, "/v1/guests", {}),
    ):
        for body in ({"content": big}, {"content": streamed()}):
            reason, metadata, _ = failure(await api.post(path, headers=headers, **body), 413)
            assert (reason, metadata) == ("REQUEST_TOO_LARGE", {"limit_bytes": str(limit)})


async def test_edge_case_text_is_stored_and_returned_intact(
    gateway,
    guests_stub,
    catalog_stub,
    partners_stub,
    guests_service,
    partners_service,
    reservations_service,
    payments_service,
):
    _, key = await register(partners_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=50)
    for name, text in EDGE_TEXT.items():
        # A guest through the internal REST listener, read back over gRPC and from its table.
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
        made = ok(await gateway.internal.post("/v1/guests", json={"firstName": text, "lastName": text, "email": email}))
        guest_id = made["guest"]["guestId"]
        assert (made["guest"]["firstName"], made["guest"]["lastName"]) == (text, text)
        got = (await guests_stub.GetGuest(guests_pb2.GetGuestRequest(guest_id=guest_id))).guest
        assert (got.first_name, got.last_name) == (text, text)
        assert await rows(
            guests_service.database_url,
            "SELECT first_name, last_name FROM guests.guests WHERE guest_id = :g",
            g=uuid.UUID(guest_id),
        ) == [(text, text)]
        found = await guests_stub.SearchGuests(guests_pb2.SearchGuestsRequest(last_name_prefix=text))
        assert guest_id in {g.guest_id for g in found.guests}  # LIKE on SQL-ish and Unicode prefixes

        # A partner reference through the public listener, and a cancel reason that travels on to
        # reservations (status history) and payments (the reversed payout).
        body = {**booking_json(await new_guest(guests_stub), trip_id, day), "partnerReference": text}
        booking = ok(await gateway.public.post("/v1/bookings", json=body, headers=bearer(key, f"edge-{name}")))[
            "booking"
        ]
        assert booking["partnerReference"] == text
        stored = (
            await partners_stub.GetPartnerBooking(
                pb.GetPartnerBookingRequest(booking_id=booking["bookingId"]), metadata=as_key(key)
            )
        ).booking
        assert stored.partner_reference == text
        cancelled = ok(
            await gateway.public.post(
                f"/v1/bookings/{booking['bookingId']}:cancel",
                json={"reason": text},
                headers={"Authorization": f"Bearer {key}"},
            )
        )
        assert cancelled["booking"]["status"] == "PARTNER_BOOKING_STATUS_CANCELLED"
        history = await rows(
            reservations_service.database_url,
            "SELECT reason FROM reservations.status_history WHERE reservation_id = :r AND new_status = 'cancelled'",
            r=uuid.UUID(booking["reservationId"]),
        )
        assert history == [(text,)]
        payout = await rows(
            payments_service.database_url,
            "SELECT reversal_reason FROM payments.commission_payouts WHERE partner_booking_id = :b",
            b=uuid.UUID(booking["bookingId"]),
        )
        assert payout == [(text,)]
