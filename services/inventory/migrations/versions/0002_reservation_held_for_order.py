"""stock reservations held for their order: the expiry sweep skips them

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"

_INDEX = "idx_stock_reservations_expiring"


def upgrade() -> None:
    op.add_column("stock_reservations", sa.Column("order_id", UUID(as_uuid=True), nullable=True), schema="inventory")
    op.drop_index(_INDEX, table_name="stock_reservations", schema="inventory")
    op.create_index(
        _INDEX,
        "stock_reservations",
        ["expire_time"],
        schema="inventory",
        postgresql_where=sa.text("status = 'reserved' AND order_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="stock_reservations", schema="inventory")
    op.create_index(
        _INDEX, "stock_reservations", ["expire_time"], schema="inventory", postgresql_where=sa.text("status = 'reserved'")
    )
    op.drop_column("stock_reservations", "order_id", schema="inventory")
