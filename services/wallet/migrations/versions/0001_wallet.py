"""company currencies, wallets (balances), ledger entries, outbox

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
_amount = sa.Numeric(20, 2)


def upgrade() -> None:
    op.create_table(
        "company_currencies",
        sa.Column("company_id", _uuid, primary_key=True),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        schema="wallet",
    )
    op.create_table(
        "wallets",
        sa.Column("customer_id", _uuid, primary_key=True),
        sa.Column("company_id", _uuid, primary_key=True),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("cash", _amount, nullable=False),
        sa.Column("bonus", _amount, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        # Never negative, whatever the code above it does (the debit's conditional write is the first line).
        sa.CheckConstraint("cash >= 0 AND bonus >= 0", name="ck_wallets_not_negative"),
        schema="wallet",
    )
    op.create_table(
        "entries",
        sa.Column("operation_id", _uuid, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("customer_id", _uuid),
        sa.Column("company_id", _uuid),
        sa.Column("currency", sa.CHAR(3)),
        # signed: what the entry moved (a debit's are negative), so a balance is a plain sum
        sa.Column("cash", _amount, nullable=False),
        sa.Column("bonus", _amount, nullable=False),
        sa.Column("refunds_operation_id", _uuid, unique=True),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("kind IN ('top_up', 'debit', 'refund', 'voided')", name="ck_entries_kind"),
        sa.CheckConstraint(
            "CASE kind WHEN 'debit' THEN cash <= 0 AND bonus <= 0 WHEN 'voided' THEN cash = 0 AND bonus = 0 "
            "ELSE cash >= 0 AND bonus >= 0 END",
            name="ck_entries_sign",
        ),
        sa.CheckConstraint("(kind = 'refund') = (refunds_operation_id IS NOT NULL)", name="ck_entries_refunds"),
        # only a voided debit and the refund that voided it name no wallet (they moved nothing)
        sa.CheckConstraint(
            "(customer_id IS NULL) = (company_id IS NULL) AND (customer_id IS NULL) = (currency IS NULL) "
            "AND (customer_id IS NOT NULL OR (cash = 0 AND bonus = 0))",
            name="ck_entries_wallet",
        ),
        schema="wallet",
    )
    op.create_index(
        "idx_entries_wallet_created",
        "entries",
        ["customer_id", "company_id", "created_at", "operation_id"],
        schema="wallet",
    )
    create_outbox("wallet")


def downgrade() -> None:
    for table in ("outbox", "entries", "wallets", "company_currencies"):
        op.drop_table(table, schema="wallet")
