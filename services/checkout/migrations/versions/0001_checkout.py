"""checkouts, saga_instances, outbox, inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.chassis.migrations import create_inbox, create_outbox, create_sagas

revision = "0001"
down_revision = None

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "checkouts",
        # uuid5 of the cart id: a cart is checked out once.
        sa.Column("checkout_id", _uuid, primary_key=True),
        sa.Column("cart_id", _uuid, nullable=False),
        sa.Column("guest_id", _uuid, nullable=False),
        # The lines as the cart showed them: [{sku, name, unit_price (text), quantity}].
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("total_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        # sha256 of the request: a second checkout of the cart must repeat it.
        sa.Column("fingerprint", sa.CHAR(64), nullable=False),
        sa.Column("order_id", _uuid),
        sa.Column("authorization_id", sa.String(64), nullable=False),
        sa.Column("failure_reason", sa.String(64), nullable=False),
        sa.Column("failure_message", sa.Text, nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.UniqueConstraint("cart_id", name="uq_checkouts_cart"),
        sa.CheckConstraint("state IN ('running', 'completed', 'failed')", name="ck_checkouts_state"),
        sa.CheckConstraint("total_amount > 0", name="ck_checkouts_total"),
        sa.CheckConstraint("state <> 'completed' OR order_id IS NOT NULL", name="ck_checkouts_order"),
        schema="checkout",
    )
    create_sagas("checkout")
    create_outbox("checkout")
    create_inbox("checkout")


def downgrade() -> None:
    for table in ("inbox", "outbox", "saga_instances", "checkouts"):
        op.drop_table(table, schema="checkout")
