"""Catalog use cases (trips, departures, seat holds) against in-memory fakes of the unit of work: no I/O."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.catalog import commands, handlers
from services.chassis.errors import AlreadyExists, FailedPrecondition, NotFound
from tests.unit.catalog_fakes import CatalogStore, FakeCatalogUnitOfWork

DAY = date(2031, 7, 1)


@pytest.fixture
def store() -> CatalogStore:
    return CatalogStore()


@pytest.fixture
def uow(store):
    return FakeCatalogUnitOfWork.factory(store)


async def scheduled(uow, capacity: int = 5, day: date = DAY) -> commands.Slot:
    trip = await handlers.create_trip(commands.CreateTrip("Canyon", Decimal("99.50"), "USD"), uow)
    slot = commands.Slot(trip.trip_id, day)
    await handlers.create_departure(slot, capacity, uow)
    return slot


async def refused(call, error=FailedPrecondition):
    with pytest.raises(error) as caught:
        await call
    return caught.value


# Trips and departures


async def test_a_trip_is_created_active_and_found_by_id(uow):
    trip = await handlers.create_trip(commands.CreateTrip("Fjords", Decimal("1200.00"), "NOK", "by boat"), uow)
    assert trip.active and (trip.name, trip.description) == ("Fjords", "by boat")
    assert await handlers.get_trip(trip.trip_id, uow) == trip
    assert (await refused(handlers.get_trip(uuid.uuid4(), uow), NotFound)).reason == "TRIP_NOT_FOUND"


async def test_trips_are_listed_newest_first_page_by_page(uow):
    made = [await handlers.create_trip(commands.CreateTrip(f"T{n}", Decimal(n), "EUR"), uow) for n in range(5)]
    seen, position = [], None
    while True:
        page, position = await handlers.list_trips(position, 2, uow)
        seen += page
        if position is None:
            break
    assert seen == sorted(made, key=lambda t: (t.created_at, t.trip_id), reverse=True)


async def test_a_trip_departs_at_most_once_a_day_and_only_if_it_exists(store, uow):
    slot = await scheduled(uow)
    assert (await refused(handlers.create_departure(slot, 4, uow), AlreadyExists)).reason == "DEPARTURE_EXISTS"
    unknown = commands.Slot(uuid.uuid4(), DAY)
    assert (await refused(handlers.create_departure(unknown, 4, uow), NotFound)).reason == "TRIP_NOT_FOUND"
    assert [(d.capacity, d.seats_held) for d in store.departures.values()] == [(5, 0)]


async def test_departures_are_listed_by_date_within_the_range(uow):
    slot = await scheduled(uow, day=date(2031, 7, 3))
    for day in (date(2031, 7, 1), date(2031, 7, 5), date(2031, 7, 2)):
        await handlers.create_departure(commands.Slot(slot.trip_id, day), 4, uow)
    listed = await handlers.list_departures(slot.trip_id, date(2031, 7, 2), date(2031, 7, 3), uow)
    assert [d.departure_date for d in listed] == [date(2031, 7, 2), date(2031, 7, 3)]
    assert len(await handlers.list_departures(slot.trip_id, None, None, uow)) == 4
    missing = await refused(handlers.list_departures(uuid.uuid4(), None, None, uow), NotFound)
    assert missing.reason == "TRIP_NOT_FOUND"


async def test_availability_of_a_departure(store, uow):
    slot = await scheduled(uow, capacity=2)
    availability = await handlers.check_availability(slot, 2, uow)
    assert availability.available and availability.departure.seats_available == 2
    assert availability.trip.price_per_person == Decimal("99.50")
    assert not (await handlers.check_availability(slot, 3, uow)).available
    other_day = commands.Slot(slot.trip_id, date(2031, 7, 2))
    assert (await refused(handlers.check_availability(other_day, 1, uow), NotFound)).reason == "DEPARTURE_NOT_FOUND"
    store.withdraw(slot.trip_id)
    assert not (await handlers.check_availability(slot, 1, uow)).available  # a withdrawn trip takes no holds


# Seat holds


async def test_a_first_hold_takes_the_seats(store, uow):
    slot, reservation = await scheduled(uow), uuid.uuid4()
    held = await handlers.hold_seats(slot, reservation, 3, uow)
    assert (held.seats, held.departure.seats_available, held.trip.price_per_person) == (3, 2, Decimal("99.50"))
    assert store.holds == {(held.departure.departure_id, reservation): 3}


async def test_a_hold_is_idempotent_per_reservation_and_resizes_by_the_difference(store, uow):
    slot, reservation = await scheduled(uow), uuid.uuid4()
    first = await handlers.hold_seats(slot, reservation, 3, uow)
    again = await handlers.hold_seats(slot, reservation, 3, uow)
    assert again.departure == first.departure and again.seats == 3  # the retry takes nothing more
    assert (await handlers.hold_seats(slot, reservation, 5, uow)).departure.seats_available == 0
    assert (await handlers.hold_seats(slot, reservation, 1, uow)).departure.seats_available == 4
    assert store.holds == {(first.departure.departure_id, reservation): 1}


async def test_a_hold_that_does_not_fit_is_sold_out_and_changes_nothing(store, uow):
    slot, first = await scheduled(uow, capacity=5), uuid.uuid4()
    await handlers.hold_seats(slot, first, 3, uow)
    before = (dict(store.departures), dict(store.holds))
    sold_out = await refused(handlers.hold_seats(slot, uuid.uuid4(), 3, uow))
    assert (sold_out.reason, sold_out.metadata) == ("SOLD_OUT", {"seats_available": "2"})
    grown = await refused(handlers.hold_seats(slot, first, 6, uow))  # 3 more than it holds, 2 left
    assert (grown.reason, grown.metadata) == ("SOLD_OUT", {"seats_available": "2"})
    assert (store.departures, store.holds) == before


async def test_a_hold_that_cannot_fit_is_refused_before_the_departure_lock(store, uow):
    """On a departure in demand every statement under its row lock is waited for by every other
    hold; a hold refused from committed numbers never queues for it."""
    slot = await scheduled(uow, capacity=2)
    await handlers.hold_seats(slot, uuid.uuid4(), 2, uow)
    store.locked.clear()
    assert (await refused(handlers.hold_seats(slot, uuid.uuid4(), 1, uow))).reason == "SOLD_OUT"
    assert store.locked and True not in store.locked


async def test_holds_on_unknown_trips_and_departures_are_not_found(uow):
    slot = await scheduled(uow)
    other_day = commands.Slot(slot.trip_id, date(2031, 7, 2))
    assert (await refused(handlers.hold_seats(other_day, uuid.uuid4(), 1, uow), NotFound)).reason == (
        "DEPARTURE_NOT_FOUND"
    )
    unknown_trip = commands.Slot(uuid.uuid4(), DAY)
    assert (await refused(handlers.hold_seats(unknown_trip, uuid.uuid4(), 1, uow), NotFound)).reason == (
        "TRIP_NOT_FOUND"
    )


async def test_a_withdrawn_trip_takes_no_new_seats_but_answers_a_repeated_hold_and_releases(store, uow):
    slot, reservation = await scheduled(uow), uuid.uuid4()
    await handlers.hold_seats(slot, reservation, 2, uow)
    store.withdraw(slot.trip_id)
    assert (await refused(handlers.hold_seats(slot, uuid.uuid4(), 1, uow))).reason == "TRIP_INACTIVE"
    assert (await refused(handlers.hold_seats(slot, reservation, 3, uow))).reason == "TRIP_INACTIVE"
    assert (await handlers.hold_seats(slot, reservation, 2, uow)).seats == 2  # a retry of what it holds
    released = await handlers.release_seats(slot, reservation, uow)
    assert (released.seats, released.departure.seats_available) == (2, 5)


async def test_a_release_frees_the_reservations_seats_once(store, uow):
    slot, reservation, other = await scheduled(uow), uuid.uuid4(), uuid.uuid4()
    await handlers.hold_seats(slot, reservation, 3, uow)
    await handlers.hold_seats(slot, other, 1, uow)
    released = await handlers.release_seats(slot, reservation, uow)
    assert (released.seats, released.departure.seats_available) == (3, 4)
    again = await handlers.release_seats(slot, reservation, uow)
    assert (again.seats, again.departure.seats_available) == (0, 4)
    assert list(store.holds.values()) == [1]
    never_held = await handlers.release_seats(slot, uuid.uuid4(), uow)
    assert never_held.seats == 0


async def test_a_release_on_an_unknown_departure_is_not_found(uow):
    slot = await scheduled(uow)
    other_day = commands.Slot(slot.trip_id, date(2031, 7, 2))
    missing = await refused(handlers.release_seats(other_day, uuid.uuid4(), uow), NotFound)
    assert missing.reason == "DEPARTURE_NOT_FOUND"
