"""What the previous release left in the partners database is still served: sagas persisted in its
untyped state recover (forward past the pivot, compensated before it), and answers it stored as
proto bytes under an Idempotency-Key replay byte for byte."""

import hashlib
import json
import uuid

import sqlalchemy as sa
from novatrek.partners.v1 import partners_pb2 as pb

from services.chassis.protoconv import utcnow
from tests.helpers import eventually
from tests.integration.booking import new_departure, new_guest
from tests.integration.partner_fixtures import as_key, booking_request, partners_with, register  # noqa: F401 (fixture)


async def test_an_answer_stored_as_proto_bytes_replays_byte_for_byte(
    partners_stub, partners_service, guests_stub, catalog_stub
):
    partner_id, key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    request = booking_request(guest_id, trip_id, day)
    first = await partners_stub.CreatePartnerBooking(request, metadata=as_key(key, "proto-answer"))
    where = "WHERE partner_id = :partner AND idempotency_key = 'proto-answer'"
    async with partners_service.runtime.engine.begin() as conn:
        stored = (
            await conn.execute(
                sa.text(f"SELECT response FROM partners.idempotency_keys {where}"), {"partner": partner_id}
            )
        ).scalar_one()
        assert json.loads(stored)["format"] == "partner_booking.v1"  # this release stores the booking's JSON
        previous = first.SerializeToString(deterministic=True)  # what the previous release stored
        await conn.execute(
            sa.text(f"UPDATE partners.idempotency_keys SET response = :previous {where}"),
            {"previous": previous, "partner": partner_id},
        )
    again = await partners_stub.CreatePartnerBooking(request, metadata=as_key(key, "proto-answer"))
    assert again.SerializeToString() == first.SerializeToString()


def previous_release_state(request: pb.CreatePartnerBookingRequest, partner_id: str, key: str, steps_done: int) -> dict:
    """A booking saga's state as the previous release persisted it (copied from a real run)."""
    booking_id = uuid.uuid4()
    state = {
        "idempotency_key": key,
        "request_hash": hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest(),
        "guest_id": request.guest_id,
        "first_name": "",
        "last_name": "",
        "email": "",
        "trip_id": request.trip_id,
        "trip_date": f"{request.trip_date.year:04}-{request.trip_date.month:02}-{request.trip_date.day:02}",
        "party_size": request.party_size,
        "partner_reference": "",
        "booking_id": str(booking_id),
        "partner_id": partner_id,
        "reservation_id": str(uuid.uuid5(booking_id, "reservation")),
        "plan": {"basis": "booking_count", "tiers": [["0", "0.10"]]},
        "created_at": utcnow().isoformat(),
    }
    if steps_done > 2:
        state |= {"confirmation_code": "3PWYPG89KEPJ", "gross": "299.98", "currency": "USD"}
    if steps_done > 4:
        state |= {"commission": "30.00", "rate": "0.10"}
    return state


async def left_by_a_crash(engine, partner_id: str, state: dict, steps_done: int) -> None:
    """The saga row and its in-flight key, its process gone: its lease has run out."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO partners.idempotency_keys (partner_id, idempotency_key, request_hash, state, is_error, "
                "created_at, expires_at) "
                "VALUES (:partner, :key, :hash, 'in_flight', false, now(), now() + interval '1 day')"
            ),
            {"partner": partner_id, "key": state["idempotency_key"], "hash": state["request_hash"]},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO partners.saga_instances (saga_id, saga_type, status, steps_done, state, lease_until, "
                "created_at, updated_at) VALUES (:id, 'partner_booking', 'running', :steps, CAST(:state AS jsonb), "
                "now() - interval '1 second', now(), now())"
            ),
            {"id": uuid.uuid4(), "steps": steps_done, "state": json.dumps(state)},
        )


async def test_sagas_left_by_the_previous_release_are_recovered(partners_with, guests_stub, catalog_stub):
    running, stub = await partners_with(saga_lease_s=1.0, saga_recovery_interval_s=0.3)
    partner_id, key = await register(stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    request = booking_request(guest_id, trip_id, day)
    recorded = previous_release_state(request, partner_id, "past-pivot", steps_done=5)
    await left_by_a_crash(running.runtime.engine, partner_id, recorded, steps_done=5)
    early = previous_release_state(request, partner_id, "before-pivot", steps_done=1)
    await left_by_a_crash(running.runtime.engine, partner_id, early, steps_done=1)

    async def settled():
        async with running.runtime.engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT state->>'idempotency_key', status FROM partners.saga_instances"))
            return dict(rows.all()) == {"past-pivot": "completed", "before-pivot": "compensated"}

    await eventually(settled)
    replayed = (await stub.CreatePartnerBooking(request, metadata=as_key(key, "past-pivot"))).booking
    assert (replayed.booking_id, replayed.confirmation_code, replayed.commission_rate) == (
        recorded["booking_id"],
        "3PWYPG89KEPJ",
        "0.10",
    )
    assert (replayed.gross_amount.units, replayed.commission.units) == (299, 30)
    listed = (await stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))).bookings
    assert [b.booking_id for b in listed] == [recorded["booking_id"]]
    fresh = (await stub.CreatePartnerBooking(request, metadata=as_key(key, "before-pivot"))).booking  # key released
    assert fresh.booking_id != early["booking_id"] and fresh.status == pb.PARTNER_BOOKING_STATUS_CONFIRMED
