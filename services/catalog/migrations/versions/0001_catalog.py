"""trips, departures and seat holds

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "trips",
        sa.Column("trip_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("price_per_person", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_per_person >= 0", name="ck_trips_price"),
        schema="catalog",
    )
    op.create_index("idx_trips_created", "trips", ["created_at", "trip_id"], schema="catalog")
    op.create_table(
        "departures",
        sa.Column("departure_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("trip_id", UUID(as_uuid=True), sa.ForeignKey("catalog.trips.trip_id"), nullable=False),
        sa.Column("departure_date", sa.Date, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("seats_held", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("capacity > 0", name="ck_departures_capacity"),
        sa.CheckConstraint("seats_held >= 0 AND seats_held <= capacity", name="ck_departures_seats_held"),
        sa.UniqueConstraint("trip_id", "departure_date", name="uq_departures_trip_date"),
        schema="catalog",
    )
    op.create_table(
        "seat_holds",
        sa.Column("departure_id", UUID(as_uuid=True), sa.ForeignKey("catalog.departures.departure_id"), primary_key=True),
        sa.Column("reservation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seats > 0", name="ck_seat_holds_seats"),
        schema="catalog",
    )


def downgrade() -> None:
    op.drop_table("seat_holds", schema="catalog")
    op.drop_table("departures", schema="catalog")
    op.drop_table("trips", schema="catalog")
