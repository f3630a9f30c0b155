"""tombstones: an order cancelled before it was placed

Revision ID: 0002
Revises: 0001

A CancelOrder of an order id with no order (the checkout saga's compensation overtaking its own
CreateOrder) writes an orders row in status 'tombstone' with that id and nothing else, so the late
CreateOrder's insert conflicts with it on the primary key and is refused. Every placed order still
has its snapshot columns (ck_orders_placed).
"""

from alembic import op

revision = "0002"
down_revision = "0001"

_SNAPSHOT = ("checkout_id", "guest_id", "total_amount", "currency")


def upgrade() -> None:
    for column in _SNAPSHOT:
        op.alter_column("orders", column, nullable=True, schema="orders")
    op.drop_constraint("ck_orders_status", "orders", schema="orders")
    op.create_check_constraint(
        "ck_orders_status", "orders", "status IN ('confirmed', 'completed', 'cancelled', 'tombstone')", schema="orders"
    )
    placed = " AND ".join(f"{column} IS NOT NULL" for column in _SNAPSHOT)
    op.create_check_constraint("ck_orders_placed", "orders", f"status = 'tombstone' OR ({placed})", schema="orders")


def downgrade() -> None:
    op.execute("DELETE FROM orders.orders WHERE status = 'tombstone'")
    op.drop_constraint("ck_orders_placed", "orders", schema="orders")
    op.drop_constraint("ck_orders_status", "orders", schema="orders")
    op.create_check_constraint(
        "ck_orders_status", "orders", "status IN ('confirmed', 'completed', 'cancelled')", schema="orders"
    )
    for column in _SNAPSHOT:
        op.alter_column("orders", column, nullable=False, schema="orders")
