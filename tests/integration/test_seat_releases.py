"""Announced holds (a seat_releases row written before a create or a date change holds, due after a
grace period) never delay a cancel's release, and a due release never takes seats from a live reservation."""

from datetime import timedelta

import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.reservations.v1 import reservations_pb2 as res

from services.chassis.protoconv import date_to_proto, utcnow
from tests.helpers import eventually
from tests.integration.booking import create_request, new_departure, new_guest, seats_available


async def _announce(db, reservation_id: str, trip_id: str, day, due_in_s: float) -> None:
    """What a second, concurrent attempt of the create would have left behind."""
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO reservations.seat_releases (reservation_id, trip_date, trip_id, due_at, attempts) "
                "VALUES (:r, :d, :t, :at, 0) ON CONFLICT DO NOTHING"
            ),
            {"r": reservation_id, "d": day, "t": trip_id, "at": utcnow() + timedelta(seconds=due_in_s)},
        )


async def test_a_leftover_announcement_does_not_delay_a_cancel(
    guests_stub, catalog_stub, reservations_stub, reservations_db
):
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=5)
    r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 2))).reservation
    await _announce(reservations_db, r.reservation_id, trip_id, day, due_in_s=600)
    await reservations_stub.CancelReservation(res.CancelReservationRequest(reservation_id=r.reservation_id))
    assert await seats_available(catalog_stub, trip_id, day) == 5


async def test_a_due_release_spares_a_live_reservation(guests_stub, catalog_stub, reservations_stub, reservations_db):
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=5)
    r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 2))).reservation
    await _announce(reservations_db, r.reservation_id, trip_id, day, due_in_s=-1)

    async def gone():
        async with reservations_db.connect() as conn:
            return not (
                await conn.execute(
                    sa.text("SELECT 1 FROM reservations.seat_releases WHERE reservation_id = :r"),
                    {"r": r.reservation_id},
                )
            ).first()

    await eventually(gone, timeout_s=30)  # the background releaser saw it
    assert await seats_available(catalog_stub, trip_id, day) == 3


async def test_a_date_change_moves_the_hold_and_leaves_no_announcement(
    guests_stub, catalog_stub, reservations_stub, reservations_db
):
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=5)
    later = day + timedelta(days=1)
    await catalog_stub.CreateDeparture(
        cat.CreateDepartureRequest(
            departure=cat.Departure(trip_id=trip_id, departure_date=date_to_proto(later), capacity=5)
        )
    )
    r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 2))).reservation
    change = res.Reservation(reservation_id=r.reservation_id, trip_date=date_to_proto(later))
    moved = (
        await reservations_stub.UpdateReservation(
            res.UpdateReservationRequest(reservation=change, update_mask=field_mask_pb2.FieldMask(paths=["trip_date"]))
        )
    ).reservation
    assert (moved.trip_date.day, moved.revision) == (later.day, 2)
    assert (await seats_available(catalog_stub, trip_id, day), await seats_available(catalog_stub, trip_id, later)) == (
        5,
        3,
    )
    async with reservations_db.connect() as conn:  # the new day's announcement was withdrawn, the old day released
        left = (
            await conn.execute(
                sa.text("SELECT trip_date FROM reservations.seat_releases WHERE reservation_id = :r"),
                {"r": r.reservation_id},
            )
        ).all()
    assert left == []
