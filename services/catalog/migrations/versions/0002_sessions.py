"""activities, sessions (with their seat holds and tombstones), extras, outbox

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_outbox

revision = "0002"
down_revision = "0001"


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("activity_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("company_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(100), nullable=False, server_default=""),
        _time("created_at"),
        schema="catalog",
    )
    op.create_index("idx_activities_created", "activities", ["created_at", "activity_id"], schema="catalog")
    op.create_index(
        "idx_activities_company_created", "activities", ["company_id", "created_at", "activity_id"], schema="catalog"
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("activity_id", UUID(as_uuid=True), sa.ForeignKey("catalog.activities.activity_id"), nullable=False),
        sa.Column("company_id", UUID(as_uuid=True), nullable=False),
        _time("start_time"),
        _time("end_time"),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("booked", sa.Integer, nullable=False, server_default="0"),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="SCHEDULED"),
        _time("created_at"),
        sa.CheckConstraint("capacity > 0", name="ck_sessions_capacity"),
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_sessions_booked"),
        sa.CheckConstraint("end_time > start_time", name="ck_sessions_window"),
        sa.CheckConstraint("price >= 0", name="ck_sessions_price"),
        sa.CheckConstraint("status IN ('SCHEDULED', 'FINISHED', 'CANCELLED')", name="ck_sessions_status"),
        schema="catalog",
    )
    op.create_index("idx_sessions_start", "sessions", ["start_time", "session_id"], schema="catalog")
    op.create_index(
        "idx_sessions_company_start", "sessions", ["company_id", "start_time", "session_id"], schema="catalog"
    )
    op.create_index(
        "idx_sessions_activity_start", "sessions", ["activity_id", "start_time", "session_id"], schema="catalog"
    )
    op.create_index(
        "idx_sessions_scheduled_end",
        "sessions",
        ["end_time"],
        schema="catalog",
        postgresql_where=sa.text("status = 'SCHEDULED'"),
    )
    op.create_table(
        "extras",
        sa.Column("extra_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("activity_id", UUID(as_uuid=True), sa.ForeignKey("catalog.activities.activity_id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_price", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        _time("created_at"),
        sa.CheckConstraint("unit_price >= 0", name="ck_extras_unit_price"),
        schema="catalog",
    )
    op.create_index(
        "idx_extras_activity_created", "extras", ["activity_id", "created_at", "extra_id"], schema="catalog"
    )
    op.create_table(
        "session_holds",
        sa.Column("session_id", UUID(as_uuid=True), sa.ForeignKey("catalog.sessions.session_id"), primary_key=True),
        sa.Column("booking_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("seats", sa.Integer, nullable=False),
        _time("created_at"),
        _time("updated_at"),
        _time("released_at", nullable=True),
        sa.CheckConstraint(
            "(released_at IS NULL AND seats > 0) OR (released_at IS NOT NULL AND seats = 0)",
            name="ck_session_holds_seats",
        ),
        schema="catalog",
    )
    create_outbox("catalog")


def downgrade() -> None:
    for table in ("outbox", "session_holds", "extras", "sessions", "activities"):
        op.drop_table(table, schema="catalog")
