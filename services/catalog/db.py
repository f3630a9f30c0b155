"""catalog schema: tables, repositories, unit of work."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.exc import IntegrityError

from services.catalog.domain import Departure, Trip
from services.chassis.db import UnitOfWork, newest_first
from services.chassis.errors import AlreadyExists
from services.chassis.money import quantize

metadata = sa.MetaData(schema="catalog")

trips = sa.Table(
    "trips",
    metadata,
    sa.Column("trip_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("price_per_person", sa.Numeric(10, 2), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("price_per_person >= 0", name="ck_trips_price"),
    sa.Index("idx_trips_created", "created_at", "trip_id"),
)

departures = sa.Table(
    "departures",
    metadata,
    sa.Column("departure_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("trip_id", UUID(as_uuid=True), sa.ForeignKey("catalog.trips.trip_id"), nullable=False),
    sa.Column("departure_date", sa.Date, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("seats_held", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("capacity > 0", name="ck_departures_capacity"),
    # The last line of defence against overbooking, whatever the code above it does.
    sa.CheckConstraint("seats_held >= 0 AND seats_held <= capacity", name="ck_departures_seats_held"),
    sa.UniqueConstraint("trip_id", "departure_date", name="uq_departures_trip_date"),
)

seat_holds = sa.Table(
    "seat_holds",
    metadata,
    sa.Column("departure_id", UUID(as_uuid=True), sa.ForeignKey("catalog.departures.departure_id"), primary_key=True),
    sa.Column("reservation_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("seats > 0", name="ck_seat_holds_seats"),
)


def _hold_first_statement() -> sa.Select:
    """Built once, run with parameters (see DepartureRepository.hold_first), whose names are no
    column's: an UPDATE would take a parameter named like a column as a value to SET."""
    d, h, t = departures, seat_holds, trips
    reservation_id, seats = (
        sa.bindparam("hold_reservation", type_=h.c.reservation_id.type),
        sa.bindparam("hold_seats", type_=sa.Integer),
    )
    now = sa.bindparam("hold_now", type_=h.c.created_at.type)
    already = sa.exists().where(h.c.departure_id == d.c.departure_id, h.c.reservation_id == reservation_id)
    offered = sa.exists().where(t.c.trip_id == d.c.trip_id, t.c.active)
    fits = sa.and_(
        d.c.trip_id == sa.bindparam("hold_trip", type_=d.c.trip_id.type),
        d.c.departure_date == sa.bindparam("hold_date", type_=sa.Date),
        d.c.seats_held + seats <= d.c.capacity,
        offered,
        ~already,
    )
    taken = sa.update(d).where(fits).values(seats_held=d.c.seats_held + seats).returning(*d.c).cte("taken")
    hold = sa.insert(h).from_select(
        [h.c.departure_id, h.c.reservation_id, h.c.seats, h.c.created_at, h.c.updated_at],
        sa.select(taken.c.departure_id, reservation_id, seats, now, now),
    )
    trip_columns = [c.label(f"trip_{c.name}") for c in t.c if c.name != "trip_id"]
    return (
        sa.select(*taken.c, *trip_columns).join_from(taken, t, t.c.trip_id == taken.c.trip_id).add_cte(hold.cte("hold"))
    )


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
        """The common hold — a reservation's first on a departure of an offered trip, that fits — as
        one conditional UPDATE that writes the hold row too: one round trip, and the row lock lasts
        one statement. None when any condition fails, or when a concurrent first hold of the same
        reservation won (its hold row's key is taken): the caller's locked path then decides."""
        params = {
            "hold_trip": trip_id,
            "hold_date": on,
            "hold_reservation": reservation_id,
            "hold_seats": seats,
            "hold_now": now,
        }
        try:
            row = (await self.conn.execute(_HOLD_FIRST, params)).first()
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


class SeatHoldRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    def _key(self, departure_id: uuid.UUID, reservation_id: uuid.UUID):
        return sa.and_(seat_holds.c.departure_id == departure_id, seat_holds.c.reservation_id == reservation_id)

    async def seats(self, departure_id: uuid.UUID, reservation_id: uuid.UUID) -> int:
        """Seats the reservation holds on the departure, 0 when it holds none."""
        query = sa.select(seat_holds.c.seats).where(self._key(departure_id, reservation_id))
        return (await self.conn.execute(query)).scalar() or 0

    async def put(self, departure_id: uuid.UUID, reservation_id: uuid.UUID, seats: int, now: datetime) -> None:
        row = {
            "departure_id": departure_id,
            "reservation_id": reservation_id,
            "seats": seats,
            "created_at": now,
            "updated_at": now,
        }
        query = insert(seat_holds).values(row)
        await self.conn.execute(
            query.on_conflict_do_update(
                index_elements=["departure_id", "reservation_id"], set_={"seats": seats, "updated_at": now}
            )
        )

    async def delete(self, departure_id: uuid.UUID, reservation_id: uuid.UUID) -> int:
        """Removes the hold; returns the seats it held (0 when there was none)."""
        query = sa.delete(seat_holds).where(self._key(departure_id, reservation_id)).returning(seat_holds.c.seats)
        return (await self.conn.execute(query)).scalar() or 0


class CatalogUnitOfWork(UnitOfWork):
    trips: TripRepository
    departures: DepartureRepository
    holds: SeatHoldRepository

    def bind(self, conn) -> None:
        self.trips = TripRepository(conn)
        self.departures = DepartureRepository(conn)
        self.holds = SeatHoldRepository(conn)
