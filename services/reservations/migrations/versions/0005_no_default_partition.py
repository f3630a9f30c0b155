"""reservations: no default partition, so a newest-first page opens only the newest partitions

Revision ID: 0005
Revises: 0004

With a DEFAULT partition PostgreSQL 15 cannot order the monthly partitions among themselves (the
default may hold any month), so a newest-first search page was a Merge Append that descended every
partition's index once: a page cost grew with the number of months (bench/RESULTS.md, Session 6).
Without it the partitions are an ordered Append: the newest partitions are read first and the scan
stops as soon as the page is full. Rows the default partition holds move to their months' partitions.

What the default partition was for (an insert never fails for want of a partition) is kept by
`ensure_partition_for(ts)`: the one-statement insert, refused for want of its month's partition,
creates it and runs again (`ReservationRepository.create`), besides the maintainer's months ahead.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0005"
down_revision = "0004"

# One month's partition, for the month of `ts` (UTC); false when it exists. Safe from several
# replicas at once (the same advisory lock as ensure_monthly_partitions).
ENSURE_PARTITION_FOR = """
CREATE FUNCTION reservations.ensure_partition_for(ts TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE plpgsql AS $$
DECLARE
    month_start DATE := date_trunc('month', ts AT TIME ZONE 'UTC')::date;
    part TEXT := 'reservations_' || to_char(month_start, 'YYYY_MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('reservations.ensure_monthly_partitions'));
    IF to_regclass('reservations.' || part) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format(
        'CREATE TABLE reservations.%I PARTITION OF reservations.reservations FOR VALUES FROM (%L) TO (%L)',
        part, month_start::timestamp AT TIME ZONE 'UTC', (month_start + INTERVAL '1 month')::timestamp AT TIME ZONE 'UTC');
    RETURN TRUE;
END $$
"""

# The months ahead, each through ensure_partition_for: one place creates a partition.
MONTHLY_THROUGH_ENSURE_PARTITION_FOR = """
CREATE OR REPLACE FUNCTION reservations.ensure_monthly_partitions(months_ahead INTEGER) RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    first_month DATE := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    created INTEGER := 0;
BEGIN
    FOR i IN 0..months_ahead LOOP
        IF reservations.ensure_partition_for((first_month + make_interval(months => i))::timestamp AT TIME ZONE 'UTC') THEN
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END $$
"""

# Detached first: a month's partition cannot be created while the default holds rows of that month.
MOVE_OUT_OF_DEFAULT = """
DO $$
BEGIN
    IF to_regclass('reservations.reservations_default') IS NULL THEN
        RETURN;
    END IF;
    ALTER TABLE reservations.reservations DETACH PARTITION reservations.reservations_default;
    PERFORM reservations.ensure_partition_for(min(created_at))
        FROM reservations.reservations_default GROUP BY date_trunc('month', created_at AT TIME ZONE 'UTC');
    INSERT INTO reservations.reservations SELECT * FROM reservations.reservations_default;
    DROP TABLE reservations.reservations_default;
END $$
"""


def upgrade() -> None:
    op.execute(ENSURE_PARTITION_FOR)
    op.execute(MONTHLY_THROUGH_ENSURE_PARTITION_FOR)
    op.execute(MOVE_OUT_OF_DEFAULT)


def downgrade() -> None:
    op.execute("CREATE TABLE reservations.reservations_default PARTITION OF reservations.reservations DEFAULT")
    op.execute("DROP FUNCTION reservations.ensure_monthly_partitions(INTEGER)")
    op.execute(_revision_0001().PARTITION_FUNCTION)  # its own body again
    op.execute("DROP FUNCTION reservations.ensure_partition_for(TIMESTAMPTZ)")


def _revision_0001():
    spec = importlib.util.spec_from_file_location("reservations_0001", Path(__file__).with_name("0001_reservations.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
