"""stock per SKU, stock reservations with their lines, inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_inbox

revision = "0001"
down_revision = None

_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", _ts, nullable=False),
        # The last line of defence against overselling, whatever the code above it does.
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_stock_reserved"),
        schema="inventory",
    )
    op.create_table(
        "stock_reservations",
        sa.Column("checkout_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hold_seconds", sa.Integer, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("expire_time", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.CheckConstraint("status IN ('reserved', 'committed', 'released')", name="ck_stock_reservations_status"),
        schema="inventory",
    )
    # The expiry sweep reads only what still holds stock.
    op.create_index(
        "idx_stock_reservations_expiring",
        "stock_reservations",
        ["expire_time"],
        schema="inventory",
        postgresql_where=sa.text("status = 'reserved'"),
    )
    op.create_table(
        "stock_reservation_lines",
        sa.Column(
            "checkout_id",
            UUID(as_uuid=True),
            sa.ForeignKey("inventory.stock_reservations.checkout_id"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), sa.ForeignKey("inventory.stock.sku"), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_stock_reservation_lines_quantity"),
        schema="inventory",
    )
    op.create_index("idx_stock_reservation_lines_sku", "stock_reservation_lines", ["sku"], schema="inventory")
    create_inbox("inventory")


def downgrade() -> None:
    for table in ("inbox", "stock_reservation_lines", "stock_reservations", "stock"):
        op.drop_table(table, schema="inventory")
