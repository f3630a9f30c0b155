"""reservations, participants, status_history (seed svc-reservations), monthly partitions, outbox

Revision ID: 0001
Revises:
"""

from alembic import op

from services.chassis.migrations import create_outbox

revision = "0001"
down_revision = None

# reservations is partitioned by month of created_at (the reservation date). A partitioned table
# can only enforce UNIQUE on columns that include the partition key, so reservation_keys (not
# partitioned) carries the global uniqueness of reservation_id and confirmation_code, and is the
# target of the foreign keys. See docs/reservations-partitioning.md.
UPGRADE = """
CREATE TABLE reservations.reservation_keys (
    reservation_id      UUID PRIMARY KEY,
    confirmation_code   VARCHAR(12) NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    request_fingerprint VARCHAR(64) NOT NULL
);
CREATE UNIQUE INDEX idx_res_confirmation ON reservations.reservation_keys (confirmation_code);

CREATE TABLE reservations.reservations (
    reservation_id    UUID NOT NULL REFERENCES reservations.reservation_keys (reservation_id) ON DELETE CASCADE,
    guest_id          UUID NOT NULL,
    trip_id           UUID NOT NULL,
    confirmation_code VARCHAR(12) NOT NULL,
    status            VARCHAR(20) NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show')),
    trip_date         DATE NOT NULL,
    party_size        INTEGER NOT NULL CHECK (party_size > 0),
    total_amount      DECIMAL(10,2) NOT NULL,
    currency          CHAR(3) NOT NULL DEFAULT 'USD',
    _rev              INTEGER NOT NULL DEFAULT 1,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (reservation_id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX idx_res_guest_date ON reservations.reservations (guest_id, trip_date);
CREATE INDEX idx_res_trip_date ON reservations.reservations (trip_id, trip_date);
CREATE INDEX idx_res_status ON reservations.reservations (status);
-- Catches rows outside every monthly partition (a stopped maintainer), so inserts never fail.
CREATE TABLE reservations.reservations_default PARTITION OF reservations.reservations DEFAULT;

CREATE TABLE reservations.participants (
    participant_id UUID PRIMARY KEY,
    reservation_id UUID NOT NULL REFERENCES reservations.reservation_keys (reservation_id) ON DELETE CASCADE,
    guest_id       UUID NOT NULL,
    role           VARCHAR(20) NOT NULL DEFAULT 'guest',
    waiver_signed  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_part_reservation ON reservations.participants (reservation_id);
CREATE INDEX idx_part_guest ON reservations.participants (guest_id);

CREATE TABLE reservations.status_history (
    history_id     UUID PRIMARY KEY,
    reservation_id UUID NOT NULL REFERENCES reservations.reservation_keys (reservation_id) ON DELETE CASCADE,
    old_status     VARCHAR(20) NULL,
    new_status     VARCHAR(20) NOT NULL,
    changed_by     VARCHAR(100) NOT NULL,
    reason         TEXT NULL,
    changed_at     TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_hist_reservation ON reservations.status_history (reservation_id, changed_at DESC);

CREATE TABLE reservations.seat_releases (
    reservation_id UUID NOT NULL,
    trip_date      DATE NOT NULL,
    trip_id        UUID NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (reservation_id, trip_date)
);
"""

# Creates the partitions of this month and the next `months_ahead` months (idempotent, safe
# to run from several replicas at once). Bounds are UTC month starts.
PARTITION_FUNCTION = """
CREATE FUNCTION reservations.ensure_monthly_partitions(months_ahead INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    first_month DATE := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    month_start DATE;
    part TEXT;
    created INTEGER := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reservations.ensure_monthly_partitions'));
    FOR i IN 0..months_ahead LOOP
        month_start := (first_month + make_interval(months => i))::date;
        part := 'reservations_' || to_char(month_start, 'YYYY_MM');
        IF to_regclass('reservations.' || part) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE reservations.%I PARTITION OF reservations.reservations FOR VALUES FROM (%L) TO (%L)',
                part, month_start::timestamp AT TIME ZONE 'UTC', (month_start + INTERVAL '1 month')::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$
"""


def upgrade() -> None:
    for statement in UPGRADE.split(";\n"):
        if statement.strip():
            op.execute(statement)
    op.execute(PARTITION_FUNCTION)
    op.execute("SELECT reservations.ensure_monthly_partitions(3)")
    create_outbox("reservations")


def downgrade() -> None:
    for table in ("outbox", "seat_releases", "status_history", "participants", "reservations", "reservation_keys"):
        op.execute(f"DROP TABLE IF EXISTS reservations.{table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS reservations.ensure_monthly_partitions(INTEGER)")
