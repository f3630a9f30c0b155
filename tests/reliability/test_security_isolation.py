"""Scenario 7, partners kept apart: every RPC that names something of another partner finds nothing
(or is refused), and no answer carries anything of that partner; admin calls are refused to
partners; and one partner's flood through the gateway meets its own rate limit only."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import grpc
from novatrek.partners.v1 import partners_pb2 as pb

from services.chassis.protoconv import date_to_proto, utcnow
from tests.integration.booking import new_departure, new_guest
from tests.integration.gateway_fixtures import failure, live_gateway, partner_gateway_settings
from tests.integration.partner_fixtures import ADMIN, as_key, booking_request, register
from tests.reliability.exposure import answer, shows

NOT_FOUND, DENIED = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED


def _reconcile_today() -> pb.ReconcilePartnerBookingsRequest:
    today = utcnow().date()  # a day either side: the run may straddle midnight UTC
    return pb.ReconcilePartnerBookingsRequest(
        start_date=date_to_proto(today - timedelta(days=1)), end_date=date_to_proto(today + timedelta(days=1))
    )


async def test_no_rpc_reaches_another_partners_data(partners_stub, guests_stub, catalog_stub):
    (a_id, a_key), (b_id, b_key) = await register(partners_stub), await register(partners_stub)
    trip_id, day = await new_departure(catalog_stub)
    a_guest, b_guest = await new_guest(guests_stub), await new_guest(guests_stub)
    reference = f"A-{uuid.uuid4().hex}"
    mine = (
        await partners_stub.CreatePartnerBooking(
            booking_request(a_guest, trip_id, day, 1, partner_reference=reference), metadata=as_key(a_key, "shared")
        )
    ).booking
    webhook_secret = (
        await partners_stub.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=a_id), metadata=ADMIN)
    ).webhook_secret
    # A's, and never sent by B: no answer to B may carry one.
    private = [a_key, mine.reservation_id, mine.confirmation_code, reference, a_guest, webhook_secret]
    as_b, s = as_key(b_key), partners_stub

    refusals = [  # every RPC that takes an id (of A's, or admin-only), as B
        (
            s.GetPartnerBooking(pb.GetPartnerBookingRequest(booking_id=mine.booking_id), metadata=as_b),
            NOT_FOUND,
            "BOOKING_NOT_FOUND",
        ),
        (
            s.CancelPartnerBooking(pb.CancelPartnerBookingRequest(booking_id=mine.booking_id), metadata=as_b),
            NOT_FOUND,
            "BOOKING_NOT_FOUND",
        ),
        (
            s.RotatePartnerApiKey(pb.RotatePartnerApiKeyRequest(partner_id=a_id), metadata=as_b),
            NOT_FOUND,
            "PARTNER_NOT_FOUND",
        ),
        (s.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=a_id), metadata=as_b), DENIED, "ADMIN_REQUIRED"),
        (s.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=b_id), metadata=as_b), DENIED, "ADMIN_REQUIRED"),
        (
            s.RegisterPartner(
                pb.RegisterPartnerRequest(partner=pb.Partner(name="X", contact_email="x@x.io")), metadata=as_b
            ),
            DENIED,
            "ADMIN_REQUIRED",
        ),
    ]
    for call, code, reason in refusals:
        blob, failed = await answer(call)
        assert failed is not None and (failed.code, failed.reason) == (code, reason), failed
        assert not shows(blob, private), blob

    # What B may do, it does on its own things only, even under A's Idempotency-Key name.
    made, _ = await answer(
        s.CreatePartnerBooking(booking_request(b_guest, trip_id, day, 1), metadata=as_key(b_key, "shared"))
    )
    theirs = pb.CreatePartnerBookingResponse.FromString(made).booking
    assert theirs.partner_id == b_id and theirs.booking_id != mine.booking_id
    listed, _ = await answer(s.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_b))
    assert [b.booking_id for b in pb.ListPartnerBookingsResponse.FromString(listed).bookings] == [theirs.booking_id]
    run, _ = await answer(s.ReconcilePartnerBookings(_reconcile_today(), metadata=as_b))
    assert pb.ReconcilePartnerBookingsResponse.FromString(run).bookings_checked == 1  # B's one booking, not A's
    assert not [blob for blob in (made, listed, run) if shows(blob, private)]
    # A's booking and key are as they were.
    again = await s.GetPartnerBooking(pb.GetPartnerBookingRequest(booking_id=mine.booking_id), metadata=as_key(a_key))
    assert again.booking.status == pb.PARTNER_BOOKING_STATUS_CONFIRMED


RATE, BURST, FLOOD, WORKERS = 5.0, 10, 200, 20


async def test_a_flood_from_one_partner_leaves_another_at_its_normal_rate(partners_stub, partners_service):
    (_, flooder), (_, neighbour) = await register(partners_stub), await register(partners_stub)
    settings = partner_gateway_settings(partners_service.address, rate_limit_per_s=RATE, rate_limit_burst=BURST)
    async with live_gateway(settings) as gateway:
        queue, flood, calm = list(range(FLOOD)), [], []
        get = gateway.public.get

        async def flooding() -> None:
            while queue:
                queue.pop()
                flood.append(await get("/v1/bookings", headers={"Authorization": f"Bearer {flooder}"}))

        async def calmly() -> None:  # 4 a second, under its own limit of 5, while the flood lasts (5 at least)
            while queue or len(calm) < 5:
                calm.append(await get("/v1/bookings", headers={"Authorization": f"Bearer {neighbour}"}))
                await asyncio.sleep(1 / (RATE - 1))

        started = time.monotonic()
        await asyncio.gather(calmly(), *(flooding() for _ in range(WORKERS)))
        seconds = time.monotonic() - started

    passed = [r for r in flood if r.status_code == 200]
    print(
        f"\nrate limit: {FLOOD} requests from one partner in {seconds:.2f}s: {len(passed)} served, "
        f"{len(flood) - len(passed)} refused (429); the other partner: {len(calm)} of {len(calm)} served"
    )
    assert {r.status_code for r in flood} <= {200, 429}
    assert BURST <= len(passed) <= BURST + RATE * seconds + 1
    assert all(
        failure(r, 429)[0] == "RATE_LIMITED" and int(r.headers["retry-after"]) >= 1
        for r in flood
        if r.status_code == 429
    )
    assert calm and all(r.status_code == 200 for r in calm), [r.status_code for r in calm]
