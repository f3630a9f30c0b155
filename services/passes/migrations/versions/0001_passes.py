"""pass products, customer entitlements and their per-booking usages

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0001"
down_revision = None

_ts = sa.DateTime(timezone=True)
_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "pass_products",
        sa.Column("product_id", _uuid, primary_key=True),
        sa.Column("request_id", _uuid, nullable=False),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("validity_days", sa.Integer, nullable=False),
        sa.Column("activity_ids", ARRAY(_uuid), nullable=False, server_default="{}"),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.UniqueConstraint("request_id", name="uq_pass_products_request_id"),
        sa.CheckConstraint("sessions BETWEEN 1 AND 1000", name="ck_pass_products_sessions"),
        sa.CheckConstraint("validity_days BETWEEN 1 AND 3660", name="ck_pass_products_validity_days"),
        sa.CheckConstraint("price >= 0", name="ck_pass_products_price"),
        schema="passes",
    )
    op.create_table(
        "entitlements",
        sa.Column("entitlement_id", _uuid, primary_key=True),
        sa.Column("request_id", _uuid, nullable=False),
        sa.Column("product_id", _uuid, sa.ForeignKey("passes.pass_products.product_id"), nullable=False),
        sa.Column("company_id", _uuid, nullable=False),
        sa.Column("customer_id", _uuid, nullable=False),
        sa.Column("sessions_total", sa.Integer, nullable=False),
        sa.Column("sessions_remaining", sa.Integer, nullable=False),
        sa.Column("activity_ids", ARRAY(_uuid), nullable=False, server_default="{}"),
        sa.Column("valid_from", _ts, nullable=False),
        sa.Column("expire_time", _ts, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.UniqueConstraint("request_id", name="uq_entitlements_request_id"),
        # Never below zero, never above the total, whatever the code above it does.
        sa.CheckConstraint(
            "sessions_remaining >= 0 AND sessions_remaining <= sessions_total", name="ck_entitlements_remaining"
        ),
        schema="passes",
    )
    op.create_index(
        "idx_entitlements_customer", "entitlements", ["customer_id", "created_at", "entitlement_id"], schema="passes"
    )
    op.create_table(
        "usages",
        sa.Column("booking_id", _uuid, primary_key=True),
        sa.Column("entitlement_id", _uuid, sa.ForeignKey("passes.entitlements.entitlement_id"), nullable=False),
        sa.Column("activity_id", _uuid, nullable=True),
        sa.Column("session_start", _ts, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("restored_at", _ts, nullable=True),
        sa.CheckConstraint("status IN ('consumed', 'restored', 'forfeited', 'tombstone')", name="ck_usages_status"),
        # A tombstone (restored before anything was consumed) and only it has no activity and session.
        sa.CheckConstraint(
            "(status = 'tombstone') = (activity_id IS NULL) AND (activity_id IS NULL) = (session_start IS NULL)",
            name="ck_usages_tombstone",
        ),
        schema="passes",
    )
    op.create_index("idx_usages_entitlement", "usages", ["entitlement_id"], schema="passes")


def downgrade() -> None:
    for table in ("usages", "entitlements", "pass_products"):
        op.drop_table(table, schema="passes")
