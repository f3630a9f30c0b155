"""Catalog use cases: (command, uow) -> result."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.catalog.commands import CreateTrip, Slot
from services.catalog.domain import Departure, Hold, Trip, bookable
from services.catalog.seat_holds import hold_locked, release_locked
from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory

UowFactory = UnitOfWorkFactory[Any]  # CatalogUnitOfWork in production, an in-memory fake in unit tests


@dataclass(frozen=True)
class Availability:
    trip: Trip
    departure: Departure
    available: bool


@dataclass(frozen=True)
class Held:
    trip: Trip
    departure: Departure
    seats: int


@dataclass(frozen=True)
class Released:
    departure: Departure
    seats: int


async def _trip(uow, trip_id: uuid.UUID) -> Trip:
    trip = await uow.trips.get(trip_id)
    if trip is None:
        raise NotFound(f"trip {trip_id} not found", reason="TRIP_NOT_FOUND")
    return trip


async def _departure(uow, slot: Slot, lock: bool = False) -> Departure:
    departure = await uow.departures.find(slot.trip_id, slot.departure_date, for_update=lock)
    if departure is None:
        raise NotFound(f"trip {slot.trip_id} has no departure on {slot.departure_date}", reason="DEPARTURE_NOT_FOUND")
    return departure


async def create_trip(cmd: CreateTrip, uow_factory: UowFactory) -> Trip:
    trip = Trip(cmd.name, cmd.price_per_person, cmd.currency, utcnow(), cmd.description)
    async with uow_factory() as uow:
        await uow.trips.add(trip)
    return trip


async def get_trip(trip_id: uuid.UUID, uow_factory: UowFactory) -> Trip:
    async with uow_factory(read_only=True) as uow:
        return await _trip(uow, trip_id)


async def list_trips(position: list | None, limit: int, uow_factory: UowFactory) -> tuple[list[Trip], list | None]:
    async with uow_factory(read_only=True) as uow:
        rows = await uow.trips.page(position, limit)
    return page_of(rows, limit, lambda t: [t.created_at.isoformat(), str(t.trip_id)])


async def create_departure(slot: Slot, capacity: int, uow_factory: UowFactory) -> Departure:
    departure = Departure(slot.trip_id, slot.departure_date, capacity)
    async with uow_factory() as uow:
        await _trip(uow, slot.trip_id)
        await uow.departures.add(departure)
    return departure


async def list_departures(
    trip_id: uuid.UUID, start: date | None, end: date | None, uow_factory: UowFactory
) -> list[Departure]:
    async with uow_factory(read_only=True) as uow:
        await _trip(uow, trip_id)
        return await uow.departures.of_trip(trip_id, start, end)


async def check_availability(slot: Slot, seats: int, uow_factory: UowFactory) -> Availability:
    async with uow_factory(read_only=True) as uow:
        departure = await _departure(uow, slot)
        trip = await _trip(uow, slot.trip_id)
    # An inactive trip takes no new holds, so it has nothing available either.
    return Availability(trip, departure, trip.active and departure.can_hold(seats))


@dataclass
class _DepartureSeats:
    """A reservation's seats on a departure (seat_holds.SeatDesk); `trip` decides whether it is offered."""

    uow: Any
    slot: Slot
    reservation_id: uuid.UUID
    trip: Trip | None = None

    async def find(self, lock: bool) -> Departure:
        return await _departure(self.uow, self.slot, lock)

    async def held(self, place: Departure) -> Hold:
        return Hold(await self.uow.holds.seats(place.departure_id, self.reservation_id))

    def check(self, place: Departure, hold: Hold) -> None:
        assert self.trip is not None  # holds read the trip first
        bookable(self.trip)

    async def store(self, place: Departure, seats: int) -> None:
        await self.uow.departures.set_seats_held(place)
        await self.uow.holds.put(place.departure_id, self.reservation_id, seats, utcnow())

    async def release(self, place: Departure) -> int:
        released: int = await self.uow.holds.delete(place.departure_id, self.reservation_id)
        return released

    async def set_held(self, place: Departure) -> None:
        await self.uow.departures.set_seats_held(place)


async def hold_seats(slot: Slot, reservation_id: uuid.UUID, seats: int, uow_factory: UowFactory) -> Held:
    """Sets the reservation's hold to `seats`. The common case, a first hold that fits, is one
    statement; anything else is decided under the departure's lock (seat_holds.hold_locked)."""
    async with uow_factory(autocommit=True) as uow:
        taken: tuple[Trip, Departure] | None = await uow.departures.hold_first(
            slot.trip_id, slot.departure_date, reservation_id, seats, utcnow()
        )
        if taken is not None:
            return Held(*taken, seats)
    async with uow_factory() as uow:
        trip = await _trip(uow, slot.trip_id)  # holds never change a trip
        departure = await hold_locked(_DepartureSeats(uow, slot, reservation_id, trip), seats)
    return Held(trip, departure, seats)


async def release_seats(slot: Slot, reservation_id: uuid.UUID, uow_factory: UowFactory) -> Released:
    """Releases whatever the reservation holds; compensation, so it works on inactive trips too.
    Leaves no tombstone: a reservation may hold the same departure again (re-dated back)."""
    async with uow_factory() as uow:
        departure, released = await release_locked(_DepartureSeats(uow, slot, reservation_id))
    return Released(departure, released)
