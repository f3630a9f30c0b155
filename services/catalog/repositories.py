"""Repositories of trips and departures, and the catalog's unit of work: row <-> domain mapping over
db.py's tables (activities and sessions: session_repositories.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from services.catalog.db import DEPARTURE_HOLDS, DEPARTURE_SEATS, SESSION_HOLDS, departures, trips
from services.catalog.domain import Departure, Trip
from services.catalog.holds import HoldRows, first_hold
from services.catalog.session_repositories import ActivityRepository, ExtraRepository, SessionRepository
from services.chassis.db import UnitOfWork, newest_first
from services.chassis.errors import AlreadyExists
from services.chassis.money import quantize


def _hold_first_statement() -> sa.Select:
    """Built once, run with parameters (see DepartureRepository.hold_first): the first hold on the
    departure of a trip on a date, if the trip is offered, answered with the trip's columns."""
    d, t = departures, trips
    offered = sa.exists().where(t.c.trip_id == d.c.trip_id, t.c.active)
    taken, hold = first_hold(
        DEPARTURE_SEATS,
        [
            d.c.trip_id == sa.bindparam("hold_trip", type_=d.c.trip_id.type),
            d.c.departure_date == sa.bindparam("hold_date", type_=sa.Date),
            offered,
        ],
    )
    trip_columns = [c.label(f"trip_{c.name}") for c in t.c if c.name != "trip_id"]
    return sa.select(*taken.c, *trip_columns).join_from(taken, t, t.c.trip_id == taken.c.trip_id).add_cte(hold)


_HOLD_FIRST = _hold_first_statement()


def _trip(row) -> Trip:
    return _trip_values(Trip(**row._mapping))


def _trip_values(trip: Trip) -> Trip:
    return replace(trip, price_per_person=quantize(trip.price_per_person, trip.currency))


def _departure(row) -> Departure:
    return Departure(**row._mapping)


class TripRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, trip: Trip) -> None:
        await self.conn.execute(sa.insert(trips).values(trip.__dict__))

    async def get(self, trip_id: uuid.UUID) -> Trip | None:
        row = (await self.conn.execute(sa.select(trips).where(trips.c.trip_id == trip_id))).first()
        return _trip(row) if row else None

    async def page(self, position: list | None, limit: int) -> list[Trip]:
        query = newest_first(sa.select(trips), trips.c.created_at, trips.c.trip_id, position, limit)
        return [_trip(r) for r in (await self.conn.execute(query)).all()]


class DepartureRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, departure: Departure) -> None:
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(sa.insert(departures).values(departure.__dict__))
        except IntegrityError as exc:
            raise AlreadyExists(
                f"trip {departure.trip_id} already departs on {departure.departure_date}", reason="DEPARTURE_EXISTS"
            ) from exc

    async def find(self, trip_id: uuid.UUID, on: date, for_update: bool = False) -> Departure | None:
        """`for_update` locks the row: every hold on one departure runs one after the other."""
        query = sa.select(departures).where(departures.c.trip_id == trip_id, departures.c.departure_date == on)
        row = (await self.conn.execute(query.with_for_update() if for_update else query)).first()
        return _departure(row) if row else None

    async def of_trip(self, trip_id: uuid.UUID, start: date | None, end: date | None) -> list[Departure]:
        query = sa.select(departures).where(departures.c.trip_id == trip_id)
        if start is not None:
            query = query.where(departures.c.departure_date >= start)
        if end is not None:
            query = query.where(departures.c.departure_date <= end)
        rows = (await self.conn.execute(query.order_by(departures.c.departure_date))).all()
        return [_departure(r) for r in rows]

    async def hold_first(
        self, trip_id: uuid.UUID, on: date, reservation_id: uuid.UUID, seats: int, now: datetime
    ) -> tuple[Trip, Departure] | None:
        """The common hold (holds.first_hold) on a departure of an offered trip: one round trip. None
        when any condition fails, or when a concurrent first hold of the same reservation won (its
        hold row's key is taken): the caller's locked path then decides."""
        params = {"hold_trip": trip_id, "hold_date": on, "hold_holder": reservation_id, "hold_seats": seats}
        try:
            row = (await self.conn.execute(_HOLD_FIRST, params | {"hold_now": now})).first()
        except IntegrityError:
            return None
        if row is None:
            return None
        m = row._mapping
        trip = Trip(**{c.name: m[f"trip_{c.name}"] for c in trips.c if c.name != "trip_id"}, trip_id=m["trip_id"])
        return _trip_values(trip), Departure(**{c.name: m[c.name] for c in departures.c})

    async def set_seats_held(self, departure: Departure) -> None:
        query = sa.update(departures).where(departures.c.departure_id == departure.departure_id)
        await self.conn.execute(query.values(seats_held=departure.seats_held))


class CatalogUnitOfWork(UnitOfWork):
    trips: TripRepository
    departures: DepartureRepository
    holds: HoldRows
    activities: ActivityRepository
    sessions: SessionRepository
    extras: ExtraRepository
    session_holds: HoldRows

    def bind(self, conn) -> None:
        self.trips = TripRepository(conn)
        self.departures = DepartureRepository(conn)
        self.holds = HoldRows(conn, DEPARTURE_HOLDS)
        self.activities = ActivityRepository(conn)
        self.sessions = SessionRepository(conn)
        self.extras = ExtraRepository(conn)
        self.session_holds = HoldRows(conn, SESSION_HOLDS)
