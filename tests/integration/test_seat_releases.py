"""Announced holds (a seat_releases row written before a create or a date change holds, due after a
grace period) never delay a cancel's release, and a due release never takes seats from a live reservation.
The drain records each failure on its own row and backs it off alone, holds no row lock while it
calls trip-catalog, and no announcement takes over a release in progress."""

import asyncio
import uuid
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.reservations.v1 import reservations_pb2 as res

from services.chassis.errors import Unavailable
from services.chassis.protoconv import date_to_proto, utcnow
from services.reservations.releases import SeatReleaser
from tests.helpers import eventually
from tests.integration.booking import create_request, new_departure, new_guest, seats_available


async def _announce(db, reservation_id, trip_id, day, due_in_s: float) -> None:
    """What a second, concurrent attempt of the create would have left behind."""
    async with db.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO reservations.seat_releases (reservation_id, trip_date, trip_id, created_at, attempts) "
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


# The drain, driven directly: its rows fall due a day from now and its clock runs two days ahead,
# so the service's own releaser (on the real clock) never touches them, nor this one the service's.
def _ahead() -> datetime:
    return utcnow() + timedelta(days=2)


class Catalog:
    """trip-catalog's release as the drain sees it: fails on `failing` days; with a `gate`, a call
    stays in flight until the gate opens."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate, self.failing, self.calls, self.released = gate, set(), [], []
        self.entered = asyncio.Event()

    async def release(self, trip_id, day, reservation_id) -> None:
        self.calls.append(day)
        self.entered.set()
        if self.gate:
            await self.gate.wait()
        if day in self.failing:
            raise Unavailable("trip-catalog is unavailable")
        self.released.append(day)


async def _rows(db, reservation_id) -> dict:
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT trip_date, attempts, last_error, created_at AS due_at, claim_id "
                "FROM reservations.seat_releases "
                "WHERE reservation_id = :r"
            ),
            {"r": reservation_id},
        )
        return {row.trip_date: row for row in rows}


async def test_a_failed_release_is_recorded_and_backs_off_without_holding_back_the_others(reservations_db):
    rid, trip, first = uuid.uuid4(), uuid.uuid4(), date.today() + timedelta(days=40)
    second = first + timedelta(days=1)
    await _announce(reservations_db, rid, trip, first, due_in_s=86400)
    await _announce(reservations_db, rid, trip, second, due_in_s=86401)  # due after the failing one
    catalog = Catalog()
    catalog.failing.add(first)
    releaser = SeatReleaser(reservations_db, catalog, clock=_ahead, interval_s=60)  # a first backoff of 60 s
    await releaser.release_now(rid)
    left = await _rows(reservations_db, rid)
    assert catalog.released == [second] and list(left) == [first]  # the failure held nothing back
    assert left[first].attempts == 1 and "Unavailable" in left[first].last_error  # stored, not rolled back
    assert left[first].due_at > _ahead() and left[first].claim_id is None  # its own backoff
    await releaser.release_now(rid)
    assert catalog.calls == [first, second]  # not tried again before its backoff ends


async def test_a_release_in_progress_holds_no_row_lock_and_no_announcement_can_undo_it(reservations_db):
    rid, trip, day = uuid.uuid4(), uuid.uuid4(), date.today() + timedelta(days=40)
    await _announce(reservations_db, rid, trip, day, due_in_s=86400)
    catalog = Catalog(gate=asyncio.Event())
    releaser = SeatReleaser(reservations_db, catalog, clock=_ahead, announce_wait_s=0)
    draining = asyncio.create_task(releaser.release_now(rid))
    await catalog.entered.wait()  # trip-catalog is being called
    async with reservations_db.begin() as conn:  # the row is not locked meanwhile
        locked = sa.text("SELECT 1 FROM reservations.seat_releases WHERE reservation_id = :r FOR UPDATE NOWAIT")
        assert (await conn.execute(locked, {"r": rid})).first() is not None
    with pytest.raises(Unavailable) as err:  # a retried create may not announce (and hold) meanwhile
        await releaser.announce(trip, day, rid)
    assert err.value.reason == "SEAT_RELEASE_IN_PROGRESS"
    patient = SeatReleaser(reservations_db, catalog, clock=_ahead, announce_wait_s=30)

    async def announce_then_look() -> tuple[bool, list]:
        return await patient.announce(trip, day, rid), list(catalog.released)

    announcing = asyncio.create_task(announce_then_look())
    catalog.gate.set()
    await draining
    assert await announcing == (False, [day])  # it waited for the release to end
    assert (await _rows(reservations_db, rid))[day].due_at > _ahead()  # the new announcement, not yet due
