"""inbox of handled events (payment.processed consumer)

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from services.chassis.migrations import create_inbox

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    create_inbox("reservations")


def downgrade() -> None:
    op.drop_table("inbox", schema="reservations")
