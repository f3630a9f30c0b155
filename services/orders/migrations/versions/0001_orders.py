"""orders, order_items (snapshots), order_status_history, outbox

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
_STATUSES = "('confirmed', 'completed', 'cancelled')"


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", _uuid, primary_key=True),
        # The idempotency key of CreateOrder (the order id is derived from it too).
        sa.Column("checkout_id", _uuid, nullable=False),
        sa.Column("guest_id", _uuid, nullable=False),
        sa.Column("total_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("authorization_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("_rev", sa.Integer, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.UniqueConstraint("checkout_id", name="uq_orders_checkout"),
        sa.CheckConstraint("total_amount > 0", name="ck_orders_total"),
        sa.CheckConstraint(f"status IN {_STATUSES}", name="ck_orders_status"),
        schema="orders",
    )
    # ListOrders: a guest's orders, newest first (keyset on created_at, order_id).
    op.create_index("idx_orders_guest_created", "orders", ["guest_id", "created_at", "order_id"], schema="orders")
    op.create_table(
        "order_items",
        sa.Column("order_id", _uuid, sa.ForeignKey("orders.orders.order_id"), primary_key=True),
        sa.Column("line", sa.SmallInteger, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.UniqueConstraint("order_id", "sku", name="uq_order_items_sku"),
        sa.CheckConstraint("line BETWEEN 1 AND 50", name="ck_order_items_line"),
        sa.CheckConstraint("unit_price > 0", name="ck_order_items_price"),
        sa.CheckConstraint("quantity BETWEEN 1 AND 1000", name="ck_order_items_quantity"),
        schema="orders",
    )
    op.create_table(
        "order_status_history",
        sa.Column("order_id", _uuid, sa.ForeignKey("orders.orders.order_id"), primary_key=True),
        # The order's revision the change produced: one change per revision, in order.
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("old_status", sa.String(16)),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changed_at", _ts, nullable=False),
        sa.CheckConstraint(f"new_status IN {_STATUSES}", name="ck_history_new_status"),
        schema="orders",
    )
    create_outbox("orders")


def downgrade() -> None:
    for table in ("outbox", "order_status_history", "order_items", "orders"):
        op.drop_table(table, schema="orders")
