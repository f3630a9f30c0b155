"""Scenario 2, idempotency storm: 100 partner bookings at once on 10 Idempotency-Keys (10 each, the
same body per key), over gRPC and over REST. Exactly one booking per key; every success for a key is
the same bytes; the only other answer is "still in flight"; a later retry replays the booking."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import pytest
from novatrek.partners.v1 import partners_pb2 as pb

from tests.integration.booking import new_departure, new_guest
from tests.integration.partner_fixtures import as_key, booking_request, register
from tests.reliability.storms import (
    CALL_TIMEOUT_S,
    assert_commissions_match,
    bearer,
    booking_json,
    grpc_outcome,
    live_reservations,
    partner_ledger,
    rest_outcome,
    rows,
    seats_of_departure,
    storm_gateway,
    tally,
)

KEYS, PER_KEY = 10, 10
IN_FLIGHT = {"grpc": ("ABORTED", "IDEMPOTENCY_KEY_IN_USE"), "rest": ("409", "IDEMPOTENCY_KEY_IN_USE")}
CREATE = "/novatrek.partners.v1.PartnerService/CreatePartnerBooking"


def grpc_sender(channel, api_key: str, bodies: list):
    # Raw bytes in and out: "byte-identical" is about what went over the wire, not a re-serialization.
    create = channel.unary_unary(CREATE, request_serializer=pb.CreatePartnerBookingRequest.SerializeToString)

    def send(key: str, k: int):
        call = create(bodies[k], metadata=as_key(api_key, key), timeout=CALL_TIMEOUT_S)
        return grpc_outcome(
            call, lambda raw: pb.CreatePartnerBookingResponse.FromString(raw).booking.booking_id, raw=bytes
        )

    return send


def rest_sender(api, api_key: str, bodies: list):
    def send(key: str, k: int):
        return rest_outcome(api.post("/v1/bookings", json=bodies[k], headers=bearer(api_key, key)))

    return send


@pytest.mark.parametrize("transport", ["grpc", "rest"])
async def test_100_requests_on_10_keys_book_10_times(
    transport,
    partners_service,
    payments_service,
    reservations_service,
    catalog_service,
    partners_stub,
    guests_stub,
    catalog_stub,
):
    partner_id, api_key = await register(partners_stub)
    trip_id, day = await new_departure(
        catalog_stub, capacity=KEYS * PER_KEY
    )  # room for every request: only the keys limit
    guests = [await new_guest(guests_stub) for _ in range(KEYS)]
    keys = [f"{transport}-storm-{k}-{uuid.uuid4().hex[:8]}" for k in range(KEYS)]
    async with storm_gateway(partners_service.address) if transport == "rest" else contextlib.nullcontext() as api:
        if transport == "grpc":
            bodies = [booking_request(guests[k], trip_id, day, 1, partner_reference=f"REF-{k}") for k in range(KEYS)]
            send = grpc_sender(partners_service.channel, api_key, bodies)
        else:
            bodies = [{**booking_json(guests[k], trip_id, day), "partnerReference": f"REF-{k}"} for k in range(KEYS)]
            send = rest_sender(api, api_key, bodies)
        started = time.monotonic()
        outcomes = await asyncio.gather(*(send(keys[n % KEYS], n % KEYS) for n in range(KEYS * PER_KEY)))
        seconds = time.monotonic() - started
        retries = await asyncio.gather(*(send(keys[k], k) for k in range(KEYS)))

    print(f"\nidempotency storm ({transport}): {KEYS * PER_KEY} calls in {seconds:.1f}s: {tally(outcomes)}")
    assert {(o.status, o.reason) for o in outcomes if not o.ok} <= {IN_FLIGHT[transport]}, tally(outcomes)
    answers = {k: {o.raw for o in outcomes[k::KEYS] if o.ok} for k in range(KEYS)}
    assert all(len(raw) == 1 for raw in answers.values()), "a key answered with different bytes, or never succeeded"
    booked = {k: {o.ident for o in outcomes[k::KEYS] if o.ok} for k in range(KEYS)}
    assert len(set().union(*booked.values())) == KEYS  # one booking per key, none shared
    # Later, each key replays its booking, byte for byte.
    assert all(retries[k].ok and {retries[k].raw} == answers[k] for k in range(KEYS)), tally(retries)

    stored = await rows(
        partners_service.database_url,
        "SELECT booking_id FROM partners.partner_bookings WHERE partner_id = :p",
        p=uuid.UUID(partner_id),
    )
    assert {str(b) for (b,) in stored} == set().union(*booked.values())
    assert await seats_of_departure(catalog_service.database_url, trip_id, day) == (KEYS, KEYS)
    assert len(await live_reservations(reservations_service.database_url, trip_id)) == KEYS
    assert_commissions_match(
        *await partner_ledger(partners_service.database_url, payments_service.database_url, trip_id)
    )
