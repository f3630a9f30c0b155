"""payments, commission payouts (with reversal tombstones), outbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_outbox

revision = "0001"
down_revision = None

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("payment_id", _uuid, primary_key=True),
        sa.Column("request_id", _uuid, nullable=False),
        sa.Column("reservation_id", _uuid, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("method_reference", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("processor_reference", sa.String(64), nullable=False),
        sa.Column("decline_reason", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_payments_amount"),
        sa.CheckConstraint("status IN ('succeeded', 'declined')", name="ck_payments_status"),
        # The idempotency key: concurrent twins of one request store one payment.
        sa.UniqueConstraint("request_id", name="uq_payments_request"),
        schema="payments",
    )
    op.create_index("idx_payments_reservation", "payments", ["reservation_id"], schema="payments")
    op.create_table(
        "commission_payouts",
        sa.Column("payout_id", _uuid, primary_key=True),
        sa.Column("commission_record_id", _uuid, nullable=False),
        sa.Column("partner_id", _uuid),
        sa.Column("partner_booking_id", _uuid),
        sa.Column("reservation_id", _uuid),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("currency", sa.CHAR(3)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reversal_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("reversed_at", _ts),
        sa.UniqueConstraint("commission_record_id", name="uq_payouts_record"),
        sa.CheckConstraint("amount >= 0", name="ck_payouts_amount"),
        sa.CheckConstraint("status IN ('owed', 'reversed')", name="ck_payouts_status"),
        sa.CheckConstraint("(status = 'reversed') = (reversed_at IS NOT NULL)", name="ck_payouts_reversed_at"),
        # A tombstone (reversed before it was processed) has no details at all; a payout has them all.
        sa.CheckConstraint("num_nulls(partner_id, partner_booking_id, reservation_id, amount, currency) IN (0, 5)", name="ck_payouts_details"),
        sa.CheckConstraint("partner_id IS NOT NULL OR status = 'reversed'", name="ck_payouts_tombstone_reversed"),
        schema="payments",
    )
    op.create_index("idx_payouts_created", "commission_payouts", ["created_at", "payout_id"], schema="payments")
    op.create_index("idx_payouts_partner_created", "commission_payouts", ["partner_id", "created_at", "payout_id"], schema="payments")
    create_outbox("payments")


def downgrade() -> None:
    for table in ("outbox", "commission_payouts", "payments"):
        op.drop_table(table, schema="payments")
