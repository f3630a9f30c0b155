"""PartnerService through the real servers: pipeline, idempotency, auth, isolation, compensation."""

import asyncio
import uuid

import grpc
import nats
import pytest
import sqlalchemy as sa
from novatrek.partners.v1 import events_pb2
from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.payments.v1 import payments_pb2
from novatrek.reservations.v1 import reservations_pb2 as res

from services.chassis.protoconv import date_to_proto, utcnow
from services.cli.embedded import free_port
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from tests.helpers import FakeClock, eventually, fails
from tests.integration.booking import new_departure, new_guest, seats_available
from tests.integration.conftest import fresh_database, serve
from tests.integration.partner_fixtures import ADMIN, as_key, booking_request, count_plan, partners_with, register  # noqa: F401 (fixture)


@pytest.fixture
async def partner(partners_stub):
    return await register(partners_stub)


async def test_a_booking_runs_the_whole_pipeline(
    partners_stub, partner, guests_stub, catalog_stub, reservations_stub, payments_stub, nats_url
):
    partner_id, key = partner
    nc = await nats.connect(nats_url)
    inbox: asyncio.Queue = asyncio.Queue()
    await nc.subscribe("novatrek.external.partner-booking.confirmed", cb=inbox.put)
    try:
        guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=10)
        booking = (
            await partners_stub.CreatePartnerBooking(
                booking_request(guest_id, trip_id, day, 2, partner_reference="OTA-1"), metadata=as_key(key, "k-1")
            )
        ).booking
        assert (booking.status, booking.partner_id, booking.partner_reference) == (
            pb.PARTNER_BOOKING_STATUS_CONFIRMED,
            partner_id,
            "OTA-1",
        )
        assert (
            booking.gross_amount.units,
            booking.commission.units,
            booking.commission.nanos,
            booking.commission_rate,
        ) == (299, 30, 0, "0.10")  # 29.998 rounds half-even to 30.00
        reservation = (
            await reservations_stub.GetReservation(res.GetReservationRequest(reservation_id=booking.reservation_id))
        ).reservation
        assert (
            reservation.status == res.RESERVATION_STATUS_CONFIRMED
            and reservation.confirmation_code == booking.confirmation_code
        )
        assert await seats_available(catalog_stub, trip_id, day) == 8
        payouts = (await payments_stub.ListPayouts(payments_pb2.ListPayoutsRequest(partner_id=partner_id))).payouts
        assert [(p.partner_booking_id, p.status, p.amount.units) for p in payouts] == [
            (booking.booking_id, payments_pb2.PAYOUT_STATUS_OWED, 30)
        ]
        while True:
            event = events_pb2.PartnerBookingConfirmed.FromString((await asyncio.wait_for(inbox.get(), 10)).data)
            if event.booking.booking_id == booking.booking_id:
                break
        assert event.booking == booking
    finally:
        await nc.close()


async def test_idempotency_key_replays_refuses_reuse_and_is_required(partners_stub, partner, guests_stub, catalog_stub):
    _, key = partner
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    request = booking_request(guest_id, trip_id, day)
    first = await partners_stub.CreatePartnerBooking(request, metadata=as_key(key, "same"))
    again = await partners_stub.CreatePartnerBooking(request, metadata=as_key(key, "same"))
    assert first.SerializeToString() == again.SerializeToString()
    failure = await fails(
        partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day, 3), metadata=as_key(key, "same"))
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    failure = await fails(partners_stub.CreatePartnerBooking(request, metadata=as_key(key)))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "idempotency-key" in failure.violations


async def test_a_key_past_its_retention_is_taken_over_by_a_new_request(
    partners_stub, partner, partners_service, guests_stub, catalog_stub
):
    _, key = partner
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    first = await partners_stub.CreatePartnerBooking(
        booking_request(guest_id, trip_id, day), metadata=as_key(key, "aged")
    )
    async with partners_service.runtime.engine.begin() as conn:  # a day has passed
        await conn.execute(
            sa.text(
                "UPDATE partners.idempotency_keys SET expires_at = now() - interval '1 second' WHERE idempotency_key "
                "= 'aged'"
            )
        )
    second = await partners_stub.CreatePartnerBooking(
        booking_request(guest_id, trip_id, day, 3), metadata=as_key(key, "aged")
    )
    assert second.booking.booking_id != first.booking.booking_id and second.booking.party_size == 3
    again = await partners_stub.CreatePartnerBooking(
        booking_request(guest_id, trip_id, day, 3), metadata=as_key(key, "aged")
    )
    assert again.SerializeToString() == second.SerializeToString()  # the new claim replays as any other


async def test_a_storm_on_one_key_books_once(partners_stub, partner, guests_stub, catalog_stub, payments_stub):
    partner_id, key = partner
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=30)
    request = booking_request(guest_id, trip_id, day, 1)
    calls = [partners_stub.CreatePartnerBooking(request, metadata=as_key(key, "storm")) for _ in range(50)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    booked = {r.booking.booking_id for r in results if isinstance(r, pb.CreatePartnerBookingResponse)}
    refused = {(r.code(), r.details()) for r in results if isinstance(r, grpc.aio.AioRpcError)}
    assert len(booked) == 1 and refused <= {
        (grpc.StatusCode.ABORTED, "a request with this Idempotency-Key is still in progress")
    }
    assert await seats_available(catalog_stub, trip_id, day) == 29
    payouts = (await payments_stub.ListPayouts(payments_pb2.ListPayoutsRequest(partner_id=partner_id))).payouts
    assert len(payouts) == 1


async def test_sold_out_and_identity_mismatch_write_nothing(
    partners_stub, partner, guests_stub, catalog_stub, reservations_stub
):
    _, key = partner
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=2)
    failure = await fails(
        partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day, 3), metadata=as_key(key, "so"))
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")
    failure = await fails(
        partners_stub.CreatePartnerBooking(
            booking_request(guest_id, trip_id, day, 1, guest_last_name="Impostor"), metadata=as_key(key, "id")
        )
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "GUEST_NOT_ELIGIBLE")
    again = await fails(
        partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day, 3), metadata=as_key(key, "so"))
    )
    assert again.reason == "SOLD_OUT"  # a final answer is replayed for its key
    assert not (await reservations_stub.SearchReservations(res.SearchReservationsRequest(trip_id=trip_id))).reservations
    assert not (await partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))).bookings
    assert await seats_available(catalog_stub, trip_id, day) == 2


async def test_authentication_and_admin_rules(partners_stub, partner):
    _, key = partner
    cases = [
        ((), "CREDENTIALS_MISSING"),
        ((("authorization", "Bearer ntk_000000000000_nope"),), "API_KEY_INVALID"),
        ((("authorization", "Bearer garbage"),), "API_KEY_INVALID"),
        ((("authorization", f"Bearer {key}x"),), "API_KEY_INVALID"),
    ]
    for metadata, reason in cases:
        failure = await fails(partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=metadata))
        assert (failure.code, failure.reason) == (grpc.StatusCode.UNAUTHENTICATED, reason)
    failure = await fails(
        partners_stub.RegisterPartner(pb.RegisterPartnerRequest(partner=pb.Partner(name="x")), metadata=as_key(key))
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    failure = await fails(
        partners_stub.RegisterPartner(
            pb.RegisterPartnerRequest(partner=pb.Partner(name="x", contact_email="bad", webhook_url="ftp://x")),
            metadata=ADMIN,
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and {"partner.contact_email", "partner.webhook_url"} <= set(
        failure.violations
    )
    answer = await partners_stub.RegisterPartner(
        pb.RegisterPartnerRequest(
            partner=pb.Partner(name="Y", contact_email="y@y.io", commission_plan=count_plan(("0", "0.05")))
        ),
        metadata=ADMIN,
    )
    assert answer.api_key.startswith(answer.partner.api_key_prefix + "_") and answer.api_key not in str(answer.partner)


async def test_partners_see_only_their_own_bookings(partners_stub, partner, guests_stub, catalog_stub):
    _, key = partner
    _, other_key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    mine = (
        await partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day), metadata=as_key(key, "iso"))
    ).booking
    for call in (
        partners_stub.GetPartnerBooking(
            pb.GetPartnerBookingRequest(booking_id=mine.booking_id), metadata=as_key(other_key)
        ),
        partners_stub.CancelPartnerBooking(
            pb.CancelPartnerBookingRequest(booking_id=mine.booking_id), metadata=as_key(other_key)
        ),
    ):
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")
    assert not (
        await partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(other_key))
    ).bookings
    listed = (await partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))).bookings
    assert [b.booking_id for b in listed] == [mine.booking_id]
    failure = await fails(
        partners_stub.RotatePartnerApiKey(
            pb.RotatePartnerApiKeyRequest(partner_id=mine.partner_id), metadata=as_key(other_key)
        )
    )
    assert failure.code == grpc.StatusCode.NOT_FOUND


async def test_commission_tiers_follow_the_months_volume(partners_stub, guests_stub, catalog_stub):
    _, key = await register(partners_stub, count_plan(("0", "0.10"), ("2", "0.20")))
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, price=(100, 0))
    rates = []
    for n in range(3):
        booking = (
            await partners_stub.CreatePartnerBooking(
                booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, f"tier-{n}")
            )
        ).booking
        rates.append((booking.commission_rate, booking.commission.units))
    assert rates == [("0.10", 10), ("0.20", 20), ("0.20", 20)]


async def test_bookings_racing_at_a_tier_boundary_each_get_their_own_place(partners_stub, guests_stub, catalog_stub):
    _, key = await register(partners_stub, count_plan(("0", "0.10"), ("3", "0.20")))
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, price=(100, 0))
    book = lambda n: partners_stub.CreatePartnerBooking(
        booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, f"race-{n}")
    )
    rates = sorted((await asyncio.gather(*(book(n) for n in range(6)))), key=lambda b: b.booking.commission_rate)
    assert [b.booking.commission_rate for b in rates] == ["0.10"] * 2 + ["0.20"] * 4  # places 1-2, then 3-6
    cancelled = rates[-1].booking.booking_id  # its place is given back: the month counts five
    await partners_stub.CancelPartnerBooking(pb.CancelPartnerBookingRequest(booking_id=cancelled), metadata=as_key(key))
    assert (await book(6)).booking.commission_rate == "0.20"  # place 6 again, not 7


async def test_cancel_releases_everything_once(
    partners_stub, partner, guests_stub, catalog_stub, reservations_stub, payments_stub
):
    partner_id, key = partner
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=5)
    booking = (
        await partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day, 2), metadata=as_key(key, "c"))
    ).booking
    cancel = pb.CancelPartnerBookingRequest(booking_id=booking.booking_id, reason="guest changed plans")
    first = (await partners_stub.CancelPartnerBooking(cancel, metadata=as_key(key))).booking
    second = (await partners_stub.CancelPartnerBooking(cancel, metadata=as_key(key))).booking
    assert (
        first.status == second.status == pb.PARTNER_BOOKING_STATUS_CANCELLED and first.cancel_time == second.cancel_time
    )
    reservation = (
        await reservations_stub.GetReservation(res.GetReservationRequest(reservation_id=booking.reservation_id))
    ).reservation
    assert (
        reservation.status == res.RESERVATION_STATUS_CANCELLED
        and await seats_available(catalog_stub, trip_id, day) == 5
    )
    payouts = (await payments_stub.ListPayouts(payments_pb2.ListPayoutsRequest(partner_id=partner_id))).payouts
    assert [p.status for p in payouts] == [payments_pb2.PAYOUT_STATUS_REVERSED]


async def test_reconciliation_finds_planted_discrepancies(
    partners_stub, guests_stub, catalog_stub, reservations_stub, payments_stub, partners_service
):
    _, key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    a, b, c = [
        (
            await partners_stub.CreatePartnerBooking(
                booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, f"r{i}")
            )
        ).booking
        for i in range(3)
    ]
    await reservations_stub.CancelReservation(
        res.CancelReservationRequest(reservation_id=a.reservation_id, reason="behind the partner's back")
    )
    record_b = str(uuid.uuid5(uuid.UUID(b.booking_id), "commission"))
    await payments_stub.ReverseCommission(
        payments_pb2.ReverseCommissionRequest(commission_record_id=record_b, reason="planted")
    )
    today = date_to_proto(utcnow().date())
    answer = await partners_stub.ReconcilePartnerBookings(
        pb.ReconcilePartnerBookingsRequest(start_date=today, end_date=today), metadata=as_key(key)
    )
    found = {(d.booking_id, d.kind) for d in answer.discrepancies}
    assert answer.bookings_checked == 3
    assert found == {
        (a.booking_id, pb.DISCREPANCY_KIND_STATUS_MISMATCH),
        (b.booking_id, pb.DISCREPANCY_KIND_PAYOUT_MISSING),
    }
    async with partners_service.runtime.engine.connect() as conn:
        logged = (
            (
                await conn.execute(
                    sa.text("SELECT kind FROM partners.reconciliation_log WHERE reconciliation_id = :id ORDER BY kind"),
                    {"id": answer.reconciliation_id},
                )
            )
            .scalars()
            .all()
        )
    assert logged == ["PAYOUT_MISSING", "STATUS_MISMATCH", "SUMMARY"]
    assert c.booking_id not in {d.booking_id for d in answer.discrepancies}


async def test_rotated_key_works_through_the_grace_period_then_is_refused(partners_with):
    clock = FakeClock()
    _, stub = await partners_with(clock=clock, key_grace_period_s=3600)
    partner_id, old = await register(stub)
    new = (
        await stub.RotatePartnerApiKey(pb.RotatePartnerApiKeyRequest(partner_id=partner_id), metadata=as_key(old))
    ).api_key
    listing = pb.ListPartnerBookingsRequest()
    await stub.ListPartnerBookings(listing, metadata=as_key(new))
    clock.advance(seconds=3599)
    await stub.ListPartnerBookings(listing, metadata=as_key(old))  # the last second of its grace
    clock.advance(seconds=1)
    failure = await fails(stub.ListPartnerBookings(listing, metadata=as_key(old)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID")
    await stub.ListPartnerBookings(listing, metadata=as_key(new))


# trip-catalog is reservations' dependency, not the pipeline's: its outage is tested through reservations
@pytest.mark.parametrize("down", ["guests_addr", "reservations_addr", "payments_addr"])
async def test_a_dependency_down_is_unavailable_after_compensation(
    down, partners_with, guests_stub, catalog_stub, reservations_stub, payments_stub
):
    running, stub = await partners_with(**{down: f"127.0.0.1:{free_port()}"})
    partner_id, key = await register(stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=4)
    request = booking_request(guest_id, trip_id, day, 2)
    failure = await fails(stub.CreatePartnerBooking(request, metadata=as_key(key, "down"), timeout=20))
    assert (failure.code, failure.metadata.get("dependency")) == (
        grpc.StatusCode.UNAVAILABLE,
        down.removesuffix("_addr").replace("guests", "guest-profiles"),
    )
    assert await seats_available(catalog_stub, trip_id, day) == 4  # no orphaned hold
    for r in (await reservations_stub.SearchReservations(res.SearchReservationsRequest(trip_id=trip_id))).reservations:
        assert r.status == res.RESERVATION_STATUS_CANCELLED  # created, then compensated
    assert all(
        p.status == payments_pb2.PAYOUT_STATUS_REVERSED
        for p in (await payments_stub.ListPayouts(payments_pb2.ListPayoutsRequest(partner_id=partner_id))).payouts
    )
    assert not (await stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))).bookings
    async with running.runtime.engine.connect() as conn:
        keys = (await conn.execute(sa.text("SELECT count(*) FROM partners.idempotency_keys"))).scalar_one()
        sagas = (await conn.execute(sa.text("SELECT status FROM partners.saga_instances"))).scalars().all()
        volumes = (await conn.execute(sa.text("SELECT bookings FROM partners.commission_volumes"))).scalars().all()
    assert volumes in ([], [0])  # a place taken in the partner's month was given back first thing
    if down == "guests_addr":  # nothing to undo: the key is released for a retry
        assert (keys, sagas) == (0, ["compensated"])
    else:  # an undo needs the dependency that is down: recovery finishes it, the key stays in flight
        assert (keys, sagas) == (1, ["compensating"])
        failure = await fails(stub.CreatePartnerBooking(request, metadata=as_key(key, "down")))
        assert (failure.code, failure.reason) == (grpc.StatusCode.ABORTED, "IDEMPOTENCY_KEY_IN_USE")


async def test_recovery_finishes_a_compensation_once_the_dependency_is_back(
    partners_with, make_database, guests_stub, catalog_stub, nats_url
):
    payments_port = free_port()
    running, stub = await partners_with(
        payments_addr=f"127.0.0.1:{payments_port}", saga_lease_s=1.0, saga_recovery_interval_s=0.3
    )
    _, key = await register(stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=4)
    request = booking_request(guest_id, trip_id, day, 2)
    assert (
        await fails(stub.CreatePartnerBooking(request, metadata=as_key(key, "later")))
    ).code == grpc.StatusCode.UNAVAILABLE
    payments = await serve(
        build_payments,
        PaymentSettings,
        await fresh_database(make_database, "payments", "payments_late"),
        nats_url=nats_url,
        port=payments_port,
    )
    try:

        async def settled():
            async with running.runtime.engine.connect() as conn:
                return (await conn.execute(sa.text("SELECT status FROM partners.saga_instances"))).scalars().all() == [
                    "compensated"
                ]

        await eventually(settled)
        booking = (
            await stub.CreatePartnerBooking(request, metadata=as_key(key, "later"))
        ).booking  # the key is free again
        assert booking.status == pb.PARTNER_BOOKING_STATUS_CONFIRMED
        assert await seats_available(catalog_stub, trip_id, day) == 2
    finally:
        await payments.stop()


async def test_webhook_config_is_for_the_mesh_admin_only(partners_stub, partner):
    partner_id, key = partner
    config = await partners_stub.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=partner_id), metadata=ADMIN)
    assert config.webhook_url == "https://ota.example/hooks" and len(config.webhook_secret) >= 32
    failure = await fails(
        partners_stub.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=partner_id), metadata=as_key(key))
    )
    assert failure.code == grpc.StatusCode.PERMISSION_DENIED
    failure = await fails(
        partners_stub.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=str(uuid.uuid4())), metadata=ADMIN)
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "PARTNER_NOT_FOUND")
