"""seat_releases: per-row backoff and claims (the drain holds no row lock across its gRPC calls)

Revision ID: 0003
Revises: 0002

`created_at` was always the time a release becomes due (an announced hold's end of grace, a
cancel's now); the code calls it `due_at` (the column's key in db.py), and a failed attempt moves it
on (capped exponential backoff). The column keeps its name so that the migration only adds: replicas
of the release before run against the new schema during a rolling deploy (their drain's row lock
still keeps a new announcement waiting, as claims do).
A drain claims its rows (`claim_id`, `claimed_until`) in one statement, calls trip-catalog with no
transaction open, and records the outcome only if it still owns the claim.
"""

from alembic import op

revision = "0003"
down_revision = "0002"

UPGRADE = """
ALTER TABLE reservations.seat_releases ADD COLUMN last_error TEXT NULL;
ALTER TABLE reservations.seat_releases ADD COLUMN claim_id UUID NULL;
ALTER TABLE reservations.seat_releases ADD COLUMN claimed_until TIMESTAMPTZ NULL;
CREATE INDEX idx_seat_releases_due ON reservations.seat_releases (created_at)
"""

DOWNGRADE = """
DROP INDEX reservations.idx_seat_releases_due;
ALTER TABLE reservations.seat_releases DROP COLUMN claimed_until;
ALTER TABLE reservations.seat_releases DROP COLUMN claim_id;
ALTER TABLE reservations.seat_releases DROP COLUMN last_error
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";\n"):
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE.split(";\n"):
        op.execute(statement)
