"""indexes for failing checkouts whose saga was never recorded

Revision ID: 0002
Revises: 0001

Recovery looks for running checkouts claimed before the lease (partial index on created_at) that no
saga names: the saga's state carries the cart id (expression index).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index(
        "idx_checkouts_running",
        "checkouts",
        ["created_at"],
        schema="checkout",
        postgresql_where=sa.text("state = 'running'"),
    )
    op.create_index(
        "idx_saga_instances_cart", "saga_instances", [sa.text("((state -> 'cart') ->> 'cart_id')")], schema="checkout"
    )


def downgrade() -> None:
    op.drop_index("idx_saga_instances_cart", "saga_instances", schema="checkout")
    op.drop_index("idx_checkouts_running", "checkouts", schema="checkout")
