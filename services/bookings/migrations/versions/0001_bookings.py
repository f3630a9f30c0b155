"""bookings, booking_extras, refund_requests, saga_instances, outbox, inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_inbox, create_outbox, create_sagas

revision = "0001"
down_revision = None

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_money = sa.Numeric(12, 2)
S = "bookings"


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("booking_id", _uuid, primary_key=True),  # the caller's: the idempotency key
        sa.Column("session_id", _uuid, nullable=False),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("activity_id", _uuid, nullable=False),
        sa.Column("customer_id", _uuid, nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_method", sa.String(8), nullable=False),
        sa.Column("payment_status", sa.String(8), nullable=False),
        # The session as booked (snapshot).
        sa.Column("session_start", _ts, nullable=False),
        sa.Column("session_end", _ts, nullable=False),
        sa.Column("price", _money, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("entitlement_id", _uuid),
        sa.Column("wallet_cash", _money, nullable=False),
        sa.Column("wallet_bonus", _money, nullable=False),
        sa.Column("authorization_id", sa.String(64), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.CHAR(64), nullable=False),
        sa.Column("billing_due", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("claim_until", _ts),
        sa.Column("claim_kind", sa.String(8)),
        sa.Column("claim_key", _uuid),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.CheckConstraint("type IN ('standard', 'slot_attendee')", name="ck_bookings_type"),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'pending_payment', 'cancelled', 'failed')", name="ck_bookings_status"
        ),
        sa.CheckConstraint("payment_method IN ('pass', 'wallet', 'card')", name="ck_bookings_method"),
        sa.CheckConstraint("payment_status IN ('unpaid', 'paid', 'refunded')", name="ck_bookings_payment"),
        sa.CheckConstraint("price >= 0 AND total >= price AND wallet_cash >= 0 AND wallet_bonus >= 0", name="ck_bookings_money"),
        schema=S,
    )
    op.create_index("idx_bookings_user", "bookings", ["user_id", "session_start", "booking_id"], schema=S)
    op.create_index("idx_bookings_session", "bookings", ["session_id"], schema=S)
    op.create_index(
        "idx_bookings_pending_payment",
        "bookings",
        ["customer_id", "company_id"],
        schema=S,
        postgresql_where=sa.text("status = 'pending_payment'"),
    )
    op.create_index(
        "idx_bookings_billing_due", "bookings", ["claim_until"], schema=S, postgresql_where=sa.text("billing_due")
    )
    op.create_table(
        "booking_extras",  # each extra as sold with the booking
        sa.Column("booking_id", _uuid, sa.ForeignKey(f"{S}.bookings.booking_id"), primary_key=True),
        sa.Column("line", sa.SmallInteger, primary_key=True),
        sa.Column("extra_id", _uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_price", _money, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity BETWEEN 1 AND 20", name="ck_booking_extras_quantity"),
        schema=S,
    )
    op.create_table(
        "refund_requests",  # 0..1 per booking
        sa.Column("refund_request_id", _uuid, primary_key=True),
        sa.Column("booking_id", _uuid, sa.ForeignKey(f"{S}.bookings.booking_id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("wallet_cash", _money, nullable=False),
        sa.Column("wallet_bonus", _money, nullable=False),
        sa.Column("entitlement_restored", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("claim_until", _ts, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("completed_at", _ts),
        sa.UniqueConstraint("booking_id", name="uq_refund_requests_booking"),
        sa.CheckConstraint("status IN ('requested', 'completed')", name="ck_refund_requests_status"),
        schema=S,
    )
    op.create_index(
        "idx_refund_requests_open",
        "refund_requests",
        ["claim_until"],
        schema=S,
        postgresql_where=sa.text("status = 'requested'"),
    )
    create_sagas(S)
    create_outbox(S)
    create_inbox(S)


def downgrade() -> None:
    for table in ("inbox", "outbox", "saga_instances", "refund_requests", "booking_extras", "bookings"):
        op.drop_table(table, schema=S)
