"""commission volumes: each booking's place in its partner's month, taken atomically

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"

TABLES = """
CREATE TABLE partners.commission_volumes (
    partner_id UUID NOT NULL,
    month      DATE NOT NULL,
    bookings   INTEGER NOT NULL CHECK (bookings >= 0),
    gross      NUMERIC(14,2) NOT NULL,
    PRIMARY KEY (partner_id, month)
);
CREATE TABLE partners.commission_volume_entries (
    booking_id     UUID PRIMARY KEY,
    partner_id     UUID NOT NULL,
    month          DATE NOT NULL,
    gross          NUMERIC(12,2) NOT NULL,
    bookings_after INTEGER NOT NULL,
    gross_after    NUMERIC(14,2) NOT NULL
);
"""

# Bookings confirmed before this revision count as they did (their places are not known: 0).
BACKFILL = """
INSERT INTO partners.commission_volume_entries
SELECT booking_id, partner_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, gross_amount, 0, 0
FROM partners.partner_bookings WHERE status = 'confirmed';
INSERT INTO partners.commission_volumes
SELECT partner_id, month, count(*), sum(gross) FROM partners.commission_volume_entries GROUP BY partner_id, month;
"""


def upgrade() -> None:
    for statement in (TABLES + BACKFILL).split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE partners.commission_volume_entries")
    op.execute("DROP TABLE partners.commission_volumes")
