"""earn rules, source holders, redeem rules, accounts, transactions, lots, entries, inbox, outbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.chassis.migrations import create_inbox, create_outbox

revision = "0001"
down_revision = None

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_s = "loyalty"
_SOURCES = "('trip', 'session', 'order')"


def upgrade() -> None:
    op.create_table(
        "earn_rules",
        sa.Column("company_id", _uuid, primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("category", sa.String(100), primary_key=True),
        sa.Column("points_per_unit", sa.Numeric(12, 4), nullable=False),
        sa.Column("expiry_days", sa.Integer, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.CheckConstraint(f"source IN {_SOURCES}", name="ck_earn_rules_source"),
        sa.CheckConstraint("points_per_unit >= 0 AND expiry_days >= 0", name="ck_earn_rules_values"),
        schema=_s,
    )
    op.create_table(
        "source_holders",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("source IN ('trip', 'order')", name="ck_source_holders_source"),
        schema=_s,
    )
    op.create_table(
        "redeem_rules",
        sa.Column("company_id", _uuid, primary_key=True),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("point_value", sa.Numeric(20, 9), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.CheckConstraint("point_value > 0", name="ck_redeem_rules_point_value"),
        schema=_s,
    )
    op.create_table(
        "accounts",
        sa.Column("member_id", _uuid, primary_key=True),
        sa.Column("created_at", _ts, nullable=False),
        schema=_s,
    )
    op.create_table(
        "transactions",
        sa.Column("operation_id", _uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("member_id", _uuid),
        sa.Column("company_id", _uuid),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("by_issuer", JSONB, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("source", sa.String(16)),
        sa.Column("category", sa.String(100)),
        sa.Column("amount", sa.Numeric(20, 4)),
        sa.Column("currency", sa.CHAR(3)),
        sa.Column("expire_time", _ts),
        sa.Column("point_value", sa.Numeric(20, 9)),
        sa.Column("value", sa.Numeric(20, 4)),
        sa.Column("reverses_operation_id", _uuid, unique=True),
        sa.Column("shortfall", sa.BigInteger, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("kind IN ('earn', 'redeem', 'reversal', 'expiry', 'voided')", name="ck_transactions_kind"),
        sa.CheckConstraint(
            "CASE kind WHEN 'earn' THEN points >= 0 WHEN 'redeem' THEN points < 0 WHEN 'expiry' THEN points < 0 "
            "WHEN 'voided' THEN points = 0 ELSE true END AND shortfall >= 0",
            name="ck_transactions_points",
        ),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_operation_id IS NOT NULL)", name="ck_transactions_reverses"
        ),
        # only a tombstone and the reversal that left it name no member (they moved nothing)
        sa.CheckConstraint("member_id IS NOT NULL OR points = 0", name="ck_transactions_member"),
        schema=_s,
    )
    op.create_index(
        "idx_transactions_member_created", "transactions", ["member_id", "created_at", "operation_id"], schema=_s
    )
    op.create_table(
        "lots",
        sa.Column("lot_id", _uuid, sa.ForeignKey(f"{_s}.transactions.operation_id"), primary_key=True),
        sa.Column("member_id", _uuid, sa.ForeignKey(f"{_s}.accounts.member_id"), nullable=False),
        sa.Column("issuer_company_id", _uuid, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("remaining", sa.BigInteger, nullable=False),
        sa.Column("expire_time", _ts),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        # Never overdrawn, never above what was earned, whatever the code above it does.
        sa.CheckConstraint("points > 0 AND remaining >= 0 AND remaining <= points", name="ck_lots_remaining"),
        schema=_s,
    )
    op.create_index("idx_lots_member_expire", "lots", ["member_id", "expire_time"], schema=_s)
    op.create_index("idx_lots_expiring", "lots", ["expire_time"], schema=_s, postgresql_where=sa.text("remaining > 0"))
    op.create_table(
        "entries",
        sa.Column("operation_id", _uuid, sa.ForeignKey(f"{_s}.transactions.operation_id"), primary_key=True),
        sa.Column("lot_id", _uuid, sa.ForeignKey(f"{_s}.lots.lot_id"), primary_key=True),
        sa.Column("member_id", _uuid, nullable=False),
        sa.Column("issuer_company_id", _uuid, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("points <> 0", name="ck_entries_points"),
        schema=_s,
    )
    op.create_index("idx_entries_lot", "entries", ["lot_id"], schema=_s)
    create_inbox(_s)
    create_outbox(_s)


def downgrade() -> None:
    for table in ("outbox", "inbox", "entries", "lots", "transactions", "accounts", "redeem_rules"):
        op.drop_table(table, schema=_s)
    op.drop_table("source_holders", schema=_s)
    op.drop_table("earn_rules", schema=_s)
