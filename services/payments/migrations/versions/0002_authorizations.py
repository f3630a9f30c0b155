"""authorizations of checkouts (authorize, capture, void, refund), inbox of handled order events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.chassis.migrations import create_inbox

revision = "0002"
down_revision = "0001"

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("authorization_id", _uuid, primary_key=True),
        sa.Column("checkout_id", _uuid, nullable=False),
        sa.Column("guest_id", _uuid, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("method_reference", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("processor_reference", sa.String(64), nullable=False),
        sa.Column("decline_reason", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", _ts, nullable=False),
        sa.Column("updated_at", _ts, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_authorizations_amount"),
        sa.CheckConstraint(
            "status IN ('authorized', 'declined', 'captured', 'voided', 'refunded')", name="ck_authorizations_status"
        ),
        # The idempotency key: concurrent twins of one checkout store one authorization.
        sa.UniqueConstraint("checkout_id", name="uq_authorizations_checkout"),
        schema="payments",
    )
    create_inbox("payments")


def downgrade() -> None:
    for table in ("inbox", "authorizations"):
        op.drop_table(table, schema="payments")
