"""bookings schema: the tables (DDL lives in the Alembic migration; these Core tables are for
queries). The statements are built once in statements.py; the repository is repositories.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.consumer import inbox_table
from services.chassis.outbox import outbox_table
from services.chassis.saga_store import saga_table

metadata = sa.MetaData(schema="bookings")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_money = sa.Numeric(12, 2)

bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("booking_id", _uuid, primary_key=True),
    sa.Column("session_id", _uuid, nullable=False),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("activity_id", _uuid, nullable=False),
    sa.Column("customer_id", _uuid, nullable=False),
    sa.Column("user_id", sa.String(128), nullable=False),  # "" : no platform user (a guest)
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("payment_method", sa.String(8), nullable=False),
    sa.Column("payment_status", sa.String(8), nullable=False),
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
    # Billing of slot attendees (billing.py): due, and who holds the claim until when ('wallet': the
    # billing loop, 'card': PayBooking with the authorization key claim_key).
    sa.Column("billing_due", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("claim_until", _ts),
    sa.Column("claim_kind", sa.String(8)),
    sa.Column("claim_key", _uuid),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("idx_bookings_user", "user_id", "session_start", "booking_id"),
    sa.Index("idx_bookings_session", "session_id"),
    sa.Index(
        "idx_bookings_pending_payment",
        "customer_id",
        "company_id",
        postgresql_where=sa.text("(status)::text = 'pending_payment'::text"),
    ),
    sa.Index("idx_bookings_billing_due", "claim_until", postgresql_where=sa.text("billing_due")),
)
booking_extras = sa.Table(
    "booking_extras",
    metadata,
    sa.Column("booking_id", _uuid, sa.ForeignKey("bookings.bookings.booking_id"), primary_key=True),
    sa.Column("line", sa.SmallInteger, primary_key=True),
    sa.Column("extra_id", _uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_price", _money, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
)
refund_requests = sa.Table(
    "refund_requests",
    metadata,
    sa.Column("refund_request_id", _uuid, primary_key=True),
    sa.Column("booking_id", _uuid, sa.ForeignKey("bookings.bookings.booking_id"), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("wallet_cash", _money, nullable=False),
    sa.Column("wallet_bonus", _money, nullable=False),
    sa.Column("entitlement_restored", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("claim_until", _ts, nullable=False),  # the refund's owner (inline, or the refund loop)
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("completed_at", _ts),
    sa.Index("idx_refund_requests_open", "claim_until", postgresql_where=sa.text("(status)::text = 'requested'::text")),
)
sagas = saga_table(metadata)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
