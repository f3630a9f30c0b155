"""catalog schema: the tables (what the migrations create) and the kinds of seat holds on them.
The repositories and the unit of work: repositories.py, session_repositories.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from services.catalog.holds import HeldPlaces, HoldStatements
from services.chassis.outbox import outbox_table

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


activities = sa.Table(
    "activities",
    metadata,
    sa.Column("activity_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("company_id", UUID(as_uuid=True), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("category", sa.String(100), nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("idx_activities_created", "created_at", "activity_id"),
    sa.Index("idx_activities_company_created", "company_id", "created_at", "activity_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("activity_id", UUID(as_uuid=True), sa.ForeignKey("catalog.activities.activity_id"), nullable=False),
    sa.Column("company_id", UUID(as_uuid=True), nullable=False),  # the activity's, kept for the filters
    sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("booked", sa.Integer, nullable=False, server_default="0"),
    sa.Column("price", sa.Numeric(10, 2), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="SCHEDULED"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("capacity > 0", name="ck_sessions_capacity"),
    # As for departures: the last line of defence against overbooking.
    sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_sessions_booked"),
    sa.CheckConstraint("end_time > start_time", name="ck_sessions_window"),
    sa.CheckConstraint("price >= 0", name="ck_sessions_price"),
    sa.CheckConstraint("status IN ('SCHEDULED', 'FINISHED', 'CANCELLED')", name="ck_sessions_status"),
    sa.Index("idx_sessions_start", "start_time", "session_id"),
    sa.Index("idx_sessions_company_start", "company_id", "start_time", "session_id"),
    sa.Index("idx_sessions_activity_start", "activity_id", "start_time", "session_id"),
    # The finish job's one query per interval reads only this (scheduled sessions, by end).
    sa.Index("idx_sessions_scheduled_end", "end_time", postgresql_where=sa.text("status = 'SCHEDULED'")),
)

extras = sa.Table(
    "extras",
    metadata,
    sa.Column("extra_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("activity_id", UUID(as_uuid=True), sa.ForeignKey("catalog.activities.activity_id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_price", sa.Numeric(10, 2), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("unit_price >= 0", name="ck_extras_unit_price"),
    sa.Index("idx_extras_activity_created", "activity_id", "created_at", "extra_id"),
)

session_holds = sa.Table(
    "session_holds",
    metadata,
    sa.Column("session_id", UUID(as_uuid=True), sa.ForeignKey("catalog.sessions.session_id"), primary_key=True),
    sa.Column("booking_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # Set by a release: the row stays as a tombstone (0 seats), so a late hold of the booking is refused.
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(
        "(released_at IS NULL AND seats > 0) OR (released_at IS NOT NULL AND seats = 0)", name="ck_session_holds_seats"
    ),
)

outbox = outbox_table(metadata)

DEPARTURE_SEATS = HeldPlaces(departures, "departure_id", "seats_held", seat_holds, "reservation_id")
SESSION_SEATS = HeldPlaces(sessions, "session_id", "booked", session_holds, "booking_id", released="released_at")
DEPARTURE_HOLDS, SESSION_HOLDS = HoldStatements(DEPARTURE_SEATS), HoldStatements(SESSION_SEATS)
