"""networks, memberships, invitations, redemptions and their cross-business transactions,
settlements with their positions and transfers, outbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_outbox

revision = "0001"
down_revision = None

S = "network"
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_amount = sa.Numeric(24, 4)
_rate = sa.Numeric(30, 9)


def _fk(column: str, table: str) -> sa.Column:
    return sa.Column(column, _uuid, sa.ForeignKey(f"{S}.{table}.{column}"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("network_id", _uuid, primary_key=True),
        sa.Column("request_id", _uuid, nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("founder_company_id", _uuid, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("settled_through", sa.Date, nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_networks_currency"),
        schema=S,
    )
    op.create_table(
        "memberships",
        sa.Column("membership_id", _uuid, primary_key=True),
        _fk("network_id", "networks"),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("joined_at", _ts, nullable=False),
        sa.Column("left_at", _ts),
        sa.Column("invitation_id", _uuid, unique=True),
        schema=S,
    )
    op.create_index(
        "uq_memberships_current",
        "memberships",
        ["network_id", "company_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("left_at IS NULL"),
    )
    op.create_index("idx_memberships_network_joined", "memberships", ["network_id", "joined_at"], schema=S)
    op.create_table(
        "invitations",
        sa.Column("invitation_id", _uuid, primary_key=True),
        _fk("network_id", "networks"),
        sa.Column("inviter_company_id", _uuid, nullable=False),
        sa.Column("invitee_company_id", _uuid, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("expire_at", _ts, nullable=False),
        sa.Column("decided_at", _ts),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'expired')", name="ck_invitations_status"),
        sa.CheckConstraint("expire_at > created_at", name="ck_invitations_expiry"),
        schema=S,
    )
    op.create_index(
        "uq_invitations_pending",
        "invitations",
        ["network_id", "invitee_company_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "redemptions",
        sa.Column("operation_id", _uuid, primary_key=True),
        _fk("network_id", "networks"),
        sa.Column("member_id", _uuid, nullable=False),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("value", _amount, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("occurred_at", _ts, nullable=False),
        sa.CheckConstraint("points > 0 AND value >= 0", name="ck_redemptions_amounts"),
        schema=S,
    )
    op.create_table(
        "cross_business_transactions",
        sa.Column("transaction_id", _uuid, primary_key=True),
        _fk("operation_id", "redemptions"),
        _fk("network_id", "networks"),
        sa.Column("issuer_company_id", _uuid, nullable=False),
        sa.Column("redeemer_company_id", _uuid, nullable=False),
        sa.Column("member_id", _uuid, nullable=False),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("point_value", _rate, nullable=False),
        sa.Column("value", _amount, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("occurred_at", _ts, nullable=False),
        sa.Column("settlement_date", sa.Date, nullable=False),
        sa.CheckConstraint(
            "points > 0 AND point_value >= 0 AND value >= 0 AND issuer_company_id <> redeemer_company_id",
            name="ck_transactions_amounts",
        ),
        schema=S,
    )
    op.create_index(
        "idx_transactions_network_occurred",
        "cross_business_transactions",
        ["network_id", "occurred_at", "transaction_id"],
        schema=S,
    )
    op.create_index("idx_transactions_operation", "cross_business_transactions", ["operation_id"], schema=S)
    op.create_index(
        "idx_transactions_network_settlement",
        "cross_business_transactions",
        ["network_id", "settlement_date"],
        schema=S,
    )
    op.create_table(
        "settlements",
        sa.Column("settlement_id", _uuid, primary_key=True),
        _fk("network_id", "networks"),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("transaction_count", sa.Integer, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.UniqueConstraint("network_id", "period_start", "period_end", name="uq_settlements_period"),
        sa.CheckConstraint("period_end > period_start", name="ck_settlements_period"),
        schema=S,
    )
    op.create_table(
        "settlement_positions",
        sa.Column("settlement_id", _uuid, sa.ForeignKey(f"{S}.settlements.settlement_id"), primary_key=True),
        sa.Column("company_id", _uuid, primary_key=True),
        sa.Column("receivable", _amount, nullable=False),
        sa.Column("payable", _amount, nullable=False),
        sa.CheckConstraint("receivable >= 0 AND payable >= 0", name="ck_positions_amounts"),
        schema=S,
    )
    op.create_table(
        "settlement_transfers",
        sa.Column("settlement_id", _uuid, sa.ForeignKey(f"{S}.settlements.settlement_id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("from_company_id", _uuid, nullable=False),
        sa.Column("to_company_id", _uuid, nullable=False),
        sa.Column("amount", _amount, nullable=False),
        sa.CheckConstraint("amount > 0 AND from_company_id <> to_company_id", name="ck_transfers_amount"),
        schema=S,
    )
    create_outbox(S)


def downgrade() -> None:
    for table in (
        "outbox",
        "settlement_transfers",
        "settlement_positions",
        "settlements",
        "cross_business_transactions",
        "redemptions",
        "invitations",
        "memberships",
        "networks",
    ):
        op.drop_table(table, schema=S)
