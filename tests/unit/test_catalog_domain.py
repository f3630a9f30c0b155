"""Catalog rules and use cases against in-memory fakes of the unit of work: no I/O."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.catalog import commands, handlers
from services.catalog.domain import Departure, Trip, bookable
from services.chassis.errors import AlreadyExists, FailedPrecondition, NotFound
from services.chassis.protoconv import utcnow

DAY = date(2031, 7, 1)


class FakeCatalog:
    """The catalog in memory. It is its own unit of work (no rollback: handlers check before they
    write) and plays all three repositories, whose method names do not collide."""

    def __init__(self) -> None:
        self.trip_rows: dict[uuid.UUID, Trip] = {}
        self.departure_rows: dict[uuid.UUID, Departure] = {}
        self.hold_rows: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        self.trips = self.departures = self.holds = self

    def __call__(self, read_only: bool = False, autocommit: bool = False):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def add(self, item) -> None:
        if isinstance(item, Trip):
            self.trip_rows[item.trip_id] = item
        elif await self.find(item.trip_id, item.departure_date):
            raise AlreadyExists("taken", reason="DEPARTURE_EXISTS")
        else:
            self.departure_rows[item.departure_id] = item

    async def get(self, trip_id):
        return self.trip_rows.get(trip_id)

    async def find(self, trip_id, on, for_update=False):
        return next((d for d in self.departure_rows.values() if (d.trip_id, d.departure_date) == (trip_id, on)), None)

    async def hold_first(self, trip_id, on, reservation_id, seats, now):
        departure, trip = await self.find(trip_id, on), self.trip_rows.get(trip_id)
        if (
            not (departure and trip and trip.active and departure.can_hold(seats))
            or (departure.departure_id, reservation_id) in self.hold_rows
        ):
            return None
        await self.set_seats_held(departure.hold(0, seats))
        await self.put(departure.departure_id, reservation_id, seats, now)
        return trip, self.departure_rows[departure.departure_id]

    async def set_seats_held(self, departure: Departure) -> None:
        self.departure_rows[departure.departure_id] = departure

    async def seats(self, departure_id, reservation_id) -> int:
        return self.hold_rows.get((departure_id, reservation_id), 0)

    async def put(self, departure_id, reservation_id, seats, now) -> None:
        self.hold_rows[(departure_id, reservation_id)] = seats

    async def delete(self, departure_id, reservation_id) -> int:
        return self.hold_rows.pop((departure_id, reservation_id), 0)


def test_hold_adjusts_by_the_delta_and_refuses_what_does_not_fit():
    d = Departure(uuid.uuid4(), DAY, capacity=10, seats_held=6)
    assert d.seats_available == 4
    assert d.hold(already_held=2, wanted=6).seats_held == 10
    assert d.hold(already_held=5, wanted=1).seats_held == 2
    with pytest.raises(FailedPrecondition) as refused:
        d.hold(already_held=2, wanted=7)
    assert (refused.value.reason, refused.value.metadata) == ("SOLD_OUT", {"seats_available": "4"})
    assert d.release(6).seats_held == 0


def test_inactive_trips_are_not_bookable():
    bookable(Trip("Fjords", Decimal("10.00"), "EUR", utcnow()))
    with pytest.raises(FailedPrecondition) as refused:
        bookable(Trip("Fjords", Decimal("10.00"), "EUR", utcnow(), active=False))
    assert refused.value.reason == "TRIP_INACTIVE"


async def _scheduled(db: FakeCatalog, capacity: int = 5) -> commands.Slot:
    trip = await handlers.create_trip(commands.CreateTrip("Canyon", Decimal("99.50"), "USD"), db)
    slot = commands.Slot(trip.trip_id, DAY)
    await handlers.create_departure(slot, capacity, db)
    return slot


async def test_hold_is_idempotent_per_reservation_and_never_overbooks():
    db = FakeCatalog()
    slot = await _scheduled(db)
    first, second = uuid.uuid4(), uuid.uuid4()
    held = await handlers.hold_seats(slot, first, 3, db)
    assert (held.seats, held.departure.seats_available, held.trip.price_per_person) == (3, 2, Decimal("99.50"))
    assert (await handlers.hold_seats(slot, first, 3, db)).departure.seats_available == 2
    with pytest.raises(FailedPrecondition):
        await handlers.hold_seats(slot, second, 3, db)
    assert (await handlers.hold_seats(slot, first, 1, db)).departure.seats_available == 4
    assert db.hold_rows == {(held.departure.departure_id, first): 1}


async def test_release_twice_releases_once():
    db = FakeCatalog()
    slot = await _scheduled(db)
    reservation = uuid.uuid4()
    await handlers.hold_seats(slot, reservation, 4, db)
    assert (await handlers.release_seats(slot, reservation, db)).seats == 4
    again = await handlers.release_seats(slot, reservation, db)
    assert (again.seats, again.departure.seats_available) == (0, 5)


async def test_availability_and_unknown_resources():
    db = FakeCatalog()
    slot = await _scheduled(db, capacity=2)
    assert (await handlers.check_availability(slot, 2, db)).available
    assert not (await handlers.check_availability(slot, 3, db)).available
    with pytest.raises(AlreadyExists):
        await handlers.create_departure(slot, 4, db)
    with pytest.raises(NotFound) as missing:
        await handlers.hold_seats(commands.Slot(slot.trip_id, date(2031, 7, 2)), uuid.uuid4(), 1, db)
    assert missing.value.reason == "DEPARTURE_NOT_FOUND"
    with pytest.raises(NotFound) as missing:
        await handlers.create_departure(commands.Slot(uuid.uuid4(), DAY), 4, db)
    assert missing.value.reason == "TRIP_NOT_FOUND"


async def test_inactive_trip_refuses_new_seats_but_releases_held_ones():
    db = FakeCatalog()
    slot = await _scheduled(db)
    reservation = uuid.uuid4()
    await handlers.hold_seats(slot, reservation, 2, db)
    trip = db.trip_rows[slot.trip_id]
    db.trip_rows[slot.trip_id] = Trip(
        trip.name, trip.price_per_person, trip.currency, trip.created_at, active=False, trip_id=trip.trip_id
    )
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.hold_seats(slot, reservation, 3, db)
    assert refused.value.reason == "TRIP_INACTIVE"
    assert not (await handlers.check_availability(slot, 1, db)).available
    assert (await handlers.release_seats(slot, reservation, db)).seats == 2


async def test_a_hold_that_cannot_fit_is_refused_before_the_departure_lock():
    """On a departure in demand every statement under its row lock is waited for by every other
    hold; a hold refused from committed numbers never queues for it."""
    db, locks = FakeCatalog(), []
    find = db.find

    async def recording_find(trip_id, on, for_update=False):
        locks.append(for_update)
        return await find(trip_id, on, for_update)

    db.find = recording_find
    slot = await _scheduled(db, capacity=2)
    await handlers.hold_seats(slot, uuid.uuid4(), 2, db)
    locks.clear()
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.hold_seats(slot, uuid.uuid4(), 1, db)
    assert refused.value.reason == "SOLD_OUT" and True not in locks
