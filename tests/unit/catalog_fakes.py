"""In-memory fakes of the trip-catalog ports: its unit of work and the trip, departure and seat hold
repositories, with the schema's constraints (one departure a day per trip, 0 <= seats held <= capacity);
activities, sessions and extras: catalog_session_fakes.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from services.catalog.domain import Activity, Departure, Extra, Hold, Session, Trip
from services.chassis.errors import AlreadyExists
from tests.unit.catalog_session_fakes import FakeActivities, FakeExtras, FakeSessionHolds, FakeSessions
from tests.unit.fakes import FakeUnitOfWork, newest_first


class ReadLog(list):
    """What was read, kept whatever became of the transaction that read it (not copied with the store)."""

    def __deepcopy__(self, memo) -> ReadLog:
        return self


@dataclass
class CatalogStore:
    trips: dict[uuid.UUID, Trip] = field(default_factory=dict)
    departures: dict[uuid.UUID, Departure] = field(default_factory=dict)
    holds: dict[tuple[uuid.UUID, uuid.UUID], int] = field(default_factory=dict)  # (departure, reservation) -> seats
    locked: ReadLog = field(default_factory=ReadLog)  # for_update of every departure and session read, in order
    activities: dict[uuid.UUID, Activity] = field(default_factory=dict)
    sessions: dict[uuid.UUID, Session] = field(default_factory=dict)
    extras: dict[uuid.UUID, Extra] = field(default_factory=dict)
    session_holds: dict[tuple[uuid.UUID, uuid.UUID], Hold] = field(default_factory=dict)  # (session, booking)
    events: list = field(default_factory=list)  # published, committed with the transaction that did
    probes: int = 0  # the finish job's "has any session ended?" queries

    def withdraw(self, trip_id: uuid.UUID) -> None:
        """The trip is no longer offered (no use case does this yet: a later UpdateTrip will)."""
        self.trips[trip_id] = replace(self.trips[trip_id], active=False)


def _violated(constraint: str) -> IntegrityError:
    return IntegrityError(f"violates {constraint}", None, Exception(constraint))


class FakeTrips:
    def __init__(self, store: CatalogStore) -> None:
        self.s = store

    async def add(self, trip: Trip) -> None:
        self.s.trips[trip.trip_id] = trip

    async def get(self, trip_id: uuid.UUID) -> Trip | None:
        return self.s.trips.get(trip_id)

    async def page(self, position: list | None, limit: int) -> list[Trip]:
        return newest_first(self.s.trips.values(), lambda t: t.created_at, lambda t: t.trip_id, position, limit)


class FakeDepartures:
    def __init__(self, store: CatalogStore) -> None:
        self.s = store

    async def add(self, departure: Departure) -> None:
        if departure.trip_id not in self.s.trips:
            raise _violated("departures_trip_id_fkey")
        if await self.find(departure.trip_id, departure.departure_date):
            raise AlreadyExists(
                f"trip {departure.trip_id} already departs on {departure.departure_date}", reason="DEPARTURE_EXISTS"
            )
        self.s.departures[departure.departure_id] = departure

    async def find(self, trip_id: uuid.UUID, on: date, for_update: bool = False) -> Departure | None:
        self.s.locked.append(for_update)
        return next((d for d in self.s.departures.values() if (d.trip_id, d.departure_date) == (trip_id, on)), None)

    async def of_trip(self, trip_id: uuid.UUID, start: date | None, end: date | None) -> list[Departure]:
        found = [
            d
            for d in self.s.departures.values()
            if d.trip_id == trip_id
            and (start is None or d.departure_date >= start)
            and (end is None or d.departure_date <= end)
        ]
        return sorted(found, key=lambda d: d.departure_date)

    async def hold_first(
        self, trip_id: uuid.UUID, on: date, reservation_id: uuid.UUID, seats: int, now: datetime
    ) -> tuple[Trip, Departure] | None:
        """One statement: None unless the trip is offered, the departure exists, the seats fit and
        the reservation holds none there yet."""
        trip, departure = self.s.trips.get(trip_id), await self.find(trip_id, on)
        if seats <= 0:  # the hold row's check constraint fails the statement, which answers None
            return None
        if trip is None or departure is None or not trip.active or not departure.can_hold(seats):
            return None
        if (departure.departure_id, reservation_id) in self.s.holds:
            return None
        taken = replace(departure, seats_held=departure.seats_held + seats)
        await self.set_seats_held(taken)
        self.s.holds[(departure.departure_id, reservation_id)] = seats
        return trip, taken

    async def set_seats_held(self, departure: Departure) -> None:
        if not 0 <= departure.seats_held <= departure.capacity:
            raise _violated("ck_departures_seats_held")
        self.s.departures[departure.departure_id] = departure


class FakeHolds:
    def __init__(self, store: CatalogStore) -> None:
        self.s = store

    async def seats(self, departure_id: uuid.UUID, reservation_id: uuid.UUID) -> int:
        return self.s.holds.get((departure_id, reservation_id), 0)

    async def put(self, departure_id: uuid.UUID, reservation_id: uuid.UUID, seats: int, now: datetime) -> None:
        if seats <= 0:
            raise _violated("ck_seat_holds_seats")
        self.s.holds[(departure_id, reservation_id)] = seats

    async def delete(self, departure_id: uuid.UUID, reservation_id: uuid.UUID) -> int:
        return self.s.holds.pop((departure_id, reservation_id), 0)


class FakeCatalogUnitOfWork(FakeUnitOfWork):
    def bind(self, store: CatalogStore) -> None:
        self.trips, self.departures, self.holds = FakeTrips(store), FakeDepartures(store), FakeHolds(store)
        self.activities, self.sessions, self.extras = FakeActivities(store), FakeSessions(store), FakeExtras(store)
        self.session_holds = FakeSessionHolds(store)

    def publish(self, event, occurred) -> None:
        if self.autocommit:
            raise RuntimeError("an autocommit unit of work has no commit to add events to")
        self.work.events.append(event)
