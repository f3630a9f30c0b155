"""notifications, delivery attempts, inbox of handled events

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_inbox

revision = "0001"
down_revision = None

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
SCHEMA = "notifications"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("notification_id", _uuid, primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("partner_id", _uuid),
        sa.Column("reservation_id", _uuid),
        sa.Column("booking_id", _uuid),
        sa.Column("target", sa.String(2000), nullable=False, server_default=""),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("round_start", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
        sa.Column("delivered_at", _ts),
        sa.Column("next_attempt_at", _ts),
        # One notification per event, even if the inbox were bypassed.
        sa.UniqueConstraint("event_id", name="uq_notifications_event"),
        sa.CheckConstraint("kind IN ('partner_booking_confirmed', 'reservation_status_changed')", name="ck_notifications_kind"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed', 'skipped')", name="ck_notifications_status"),
        sa.CheckConstraint("(status = 'pending') = (next_attempt_at IS NOT NULL)", name="ck_notifications_due"),
        sa.CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="ck_notifications_delivered"),
        sa.CheckConstraint("0 <= round_start AND round_start <= attempts", name="ck_notifications_attempts"),
        schema=SCHEMA,
    )
    op.create_index("idx_notifications_created", "notifications", ["created_at", "notification_id"], schema=SCHEMA)
    op.create_index("idx_notifications_partner", "notifications", ["partner_id", "created_at"], schema=SCHEMA)
    op.create_index("idx_notifications_reservation", "notifications", ["reservation_id"], schema=SCHEMA)
    # The delivery worker's queue: only pending rows, by due time.
    op.create_index("idx_notifications_due", "notifications", ["next_attempt_at"], schema=SCHEMA,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_table(
        "delivery_attempts",
        sa.Column("notification_id", _uuid, sa.ForeignKey(f"{SCHEMA}.notifications.notification_id"), primary_key=True),
        sa.Column("attempt_number", sa.Integer, primary_key=True),
        sa.Column("attempted_at", _ts, nullable=False),
        sa.Column("http_status", sa.Integer, nullable=False),
        sa.Column("error", sa.String(500), nullable=False, server_default=""),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.CheckConstraint("attempt_number > 0", name="ck_attempts_number"),
        schema=SCHEMA,
    )
    create_inbox(SCHEMA)


def downgrade() -> None:
    for table in ("inbox", "delivery_attempts", "notifications"):
        op.drop_table(table, schema=SCHEMA)
