"""guests table

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "guests",
        sa.Column("guest_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("status", sa.String(20), nullable=False, server_default="active"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'inactive', 'suspended')", name="ck_guests_status"),
        schema="guests",
    )
    op.create_index("idx_guests_email", "guests", ["email"], unique=True, schema="guests")
    op.create_index("idx_guests_last_name", "guests", [sa.text("lower(last_name) text_pattern_ops")], schema="guests")
    op.create_index("idx_guests_created", "guests", ["created_at", "guest_id"], schema="guests")


def downgrade() -> None:
    op.drop_table("guests", schema="guests")
