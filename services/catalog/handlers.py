"""Catalog use cases: (command, uow) -> result."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.catalog.commands import CreateTrip, Slot
from services.catalog.domain import Departure, Trip, bookable
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


async def hold_seats(slot: Slot, reservation_id: uuid.UUID, seats: int, uow_factory: UowFactory) -> Held:
    """Sets the reservation's hold to `seats`; the departure row lock serialises concurrent holds.

    Everything that can be decided without the lock is decided first: on a departure in demand
    every statement run under the lock is waited for by every other hold (a storm of 300 bookings
    for 40 seats queued seconds behind it). A hold that visibly cannot fit is refused from committed
    numbers, which a concurrent release can only make larger, so never at the cost of a seat. The
    answer (seats available) is always read under the lock.

    The common case, a first hold that fits, is one statement and needs none of that."""
    async with uow_factory(autocommit=True) as uow:
        taken: tuple[Trip, Departure] | None = await uow.departures.hold_first(
            slot.trip_id, slot.departure_date, reservation_id, seats, utcnow()
        )
        if taken is not None:
            return Held(*taken, seats)
    async with uow_factory() as uow:
        trip = await _trip(uow, slot.trip_id)  # holds never change a trip
        seen = await _departure(uow, slot)
        held = await uow.holds.seats(seen.departure_id, reservation_id)
        if held != seats:  # SOLD_OUT without queueing for the lock
            bookable(trip)
            seen.hold(held, seats)
        departure = await _departure(uow, slot, lock=True)
        already = await uow.holds.seats(departure.departure_id, reservation_id)
        if already != seats:
            bookable(trip)
            departure = departure.hold(already, seats)
            await uow.departures.set_seats_held(departure)
            await uow.holds.put(departure.departure_id, reservation_id, seats, utcnow())
    return Held(trip, departure, seats)


async def release_seats(slot: Slot, reservation_id: uuid.UUID, uow_factory: UowFactory) -> Released:
    """Releases whatever the reservation holds; compensation, so it works on inactive trips too."""
    async with uow_factory() as uow:
        departure = await _departure(uow, slot, lock=True)
        released = await uow.holds.delete(departure.departure_id, reservation_id)
        if released:
            departure = departure.release(released)
            await uow.departures.set_seats_held(departure)
    return Released(departure, released)
