"""reservations: indexes in the order of a newest-first search page (by guest, by trip)

Revision ID: 0004
Revises: 0003

SearchReservations pages by (created_at, reservation_id) descending. The seed's indexes are on
(guest_id, trip_date) and (trip_id, trip_date): with them every partition read all of a guest's (or
trip's) rows and one sort ordered them, so a page cost grew with the guest's history. These indexes
hold each partition's rows of one guest (trip) in page order: a Merge Append reads each partition's
index from its newest entry and stops once the page is full (bench/RESULTS.md, "growth with data").
Each partitioned index is created on every partition, and on partitions made later.
"""

from alembic import op

revision = "0004"
down_revision = "0003"

INDEXES = {
    "idx_res_guest_created": "guest_id, created_at DESC, reservation_id DESC",
    "idx_res_trip_created": "trip_id, created_at DESC, reservation_id DESC",
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON reservations.reservations ({columns})")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX reservations.{name}")
