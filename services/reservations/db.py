"""reservations schema (see docs/reservations-partitioning.md): tables, repository, unit of work.

DDL lives in the Alembic migration (partitioning needs raw SQL); these Core tables are for queries."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.chassis.outbox import outbox_table
from services.chassis.statements import gated, insert_after, params_of
from services.reservations.domain import Participant, Reservation, StatusChange

metadata = sa.MetaData(schema="reservations")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)


def _to_key() -> sa.ForeignKey:
    return sa.ForeignKey("reservations.reservation_keys.reservation_id", ondelete="CASCADE")


STATUSES = "'pending', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show'"

# The migrations create these tables (raw SQL: partitions); the metadata declares what they create,
# constraints and indexes too (tests/integration/test_schema_metadata.py compares the two).
keys = sa.Table(
    "reservation_keys",
    metadata,
    sa.Column("reservation_id", _uuid, primary_key=True),
    sa.Column("confirmation_code", sa.String(12), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("request_fingerprint", sa.String(64), nullable=False),
    sa.Index("idx_res_confirmation", "confirmation_code", unique=True),
    info={"support": True, "summary": "Global uniqueness of ids and confirmation codes (reservations is partitioned)"},
)
reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("reservation_id", _uuid, _to_key(), primary_key=True),
    sa.Column("guest_id", _uuid, nullable=False),
    sa.Column("trip_id", _uuid, nullable=False),
    sa.Column("confirmation_code", sa.String(12), nullable=False),
    sa.Column(
        "status",
        sa.String(20),
        sa.CheckConstraint(f"status IN ({STATUSES})"),
        nullable=False,
        server_default="confirmed",
    ),
    sa.Column("trip_date", sa.Date, nullable=False),
    sa.Column("party_size", sa.Integer, sa.CheckConstraint("party_size > 0"), nullable=False),
    sa.Column("total_amount", sa.Numeric(10, 2), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False, server_default="USD"),
    sa.Column("_rev", sa.Integer, nullable=False, key="rev", server_default="1"),
    sa.Column("created_at", _ts, primary_key=True),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("idx_res_guest_date", "guest_id", "trip_date"),
    sa.Index("idx_res_trip_date", "trip_id", "trip_date"),
    sa.Index("idx_res_status", "status"),
    # newest-first search pages (migration 0004)
    sa.Index("idx_res_guest_created", "guest_id", sa.text("created_at DESC"), sa.text("reservation_id DESC")),
    sa.Index("idx_res_trip_created", "trip_id", sa.text("created_at DESC"), sa.text("reservation_id DESC")),
    info={"summary": "Core reservation records for adventure bookings (monthly partitions by created_at)"},
    postgresql_partition_by="RANGE (created_at)",
)
participants = sa.Table(
    "participants",
    metadata,
    sa.Column("participant_id", _uuid, primary_key=True),
    sa.Column("reservation_id", _uuid, _to_key(), nullable=False),
    sa.Column("guest_id", _uuid, nullable=False),
    sa.Column("role", sa.String(20), nullable=False, server_default="guest"),
    sa.Column("waiver_signed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_part_reservation", "reservation_id"),
    sa.Index("idx_part_guest", "guest_id"),
    info={"summary": "Individual participants linked to a reservation"},
)
status_history = sa.Table(
    "status_history",
    metadata,
    sa.Column("history_id", _uuid, primary_key=True),
    sa.Column("reservation_id", _uuid, _to_key(), nullable=False),
    sa.Column("old_status", sa.String(20)),
    sa.Column("new_status", sa.String(20), nullable=False),
    sa.Column("changed_by", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("changed_at", _ts, nullable=False, server_default=sa.func.now()),
    sa.Index("idx_hist_reservation", "reservation_id", sa.text("changed_at DESC")),
    info={"summary": "Audit trail of reservation status transitions"},
)
# Seats to give back to trip-catalog: announced before a hold is taken, queued with a cancel or a
# re-date, drained by the SeatReleaser (releases.py), which claims a row while it calls trip-catalog.
seat_releases = sa.Table(
    "seat_releases",
    metadata,
    sa.Column("reservation_id", _uuid, primary_key=True),
    sa.Column("trip_date", sa.Date, primary_key=True),
    sa.Column("trip_id", _uuid, nullable=False),
    sa.Column("created_at", _ts, nullable=False, key="due_at"),  # named so before migration 0003
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("claim_id", _uuid),
    sa.Column("claimed_until", _ts),
    sa.Index("idx_seat_releases_due", "due_at"),
    info={"support": True},
)
QUEUED = ["reservation_id", "trip_date", "trip_id", "due_at", "attempts"]  # what a new row is given
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)


def history_row(change: StatusChange) -> dict:
    r = change.reservation
    return {
        "history_id": uuid.uuid4(),
        "reservation_id": r.reservation_id,
        "old_status": change.old_status and change.old_status.value,
        "new_status": r.status.value,
        "changed_by": change.changed_by,
        "reason": change.reason or None,
        "changed_at": r.updated_at,
    }


def _create_statement() -> sa.Select:
    """Built once (statement construction and its cache key cost more CPU than running it)."""
    new_key = pg_insert(keys).values({c.key: sa.bindparam(f"{keys.name}_{c.key}", type_=c.type) for c in keys.c})
    key = new_key.on_conflict_do_nothing().returning(keys.c.reservation_id).cte("new_key")
    writes = [
        insert_after(key, reservations, [c.key for c in reservations.c]),
        insert_after(key, participants, [c.key for c in participants.c]),
        insert_after(key, status_history, [c.key for c in status_history.c]),
        insert_after(key, outbox, ["id", "subject", "payload", "headers"]),
        sa.delete(seat_releases).where(  # that day's only: another day's may be an earlier attempt's hold
            seat_releases.c.reservation_id == sa.select(key.c.reservation_id).scalar_subquery(),
            seat_releases.c.trip_date == sa.bindparam("reservations_trip_date", type_=sa.Date),
        ),
    ]
    return gated(key, writes)


CREATE = _create_statement()
# The month's partition of a create refused for want of one (no default partition: migration 0005).
ENSURE_PARTITION_FOR = sa.text("SELECT reservations.ensure_partition_for(:ts)")


def due_now(release: PgInsert) -> PgInsert:
    """A queued seat release; one already there for that day — a hold announced by a create (due
    later, see SeatReleaser.announce), or backing off — becomes due now: the seats go back at once.
    A drain's claim on it is voided, so that drain cannot delete this release when it finishes."""
    due = sa.func.least(seat_releases.c.due_at, release.excluded.due_at)
    unclaimed = {"claim_id": sa.null(), "claimed_until": sa.null()}
    return release.on_conflict_do_update(
        index_elements=["reservation_id", "trip_date"], set_={"due_at": due, **unclaimed}
    )


def _apply_statement(with_release: bool) -> sa.Select:
    """A status change as one statement: the reservation's row changes only if it is still at the
    revision it was read at; its history row, its event and (for a cancel) its queued seat release
    are written from the UPDATE's RETURNING, so all or nothing is."""
    r, bp = reservations, sa.bindparam  # parameter names are no column's: an UPDATE would SET them
    changed = (
        sa.update(r)
        .where(
            r.c.reservation_id == bp("apply_id", type_=_uuid),
            r.c.created_at == bp("apply_created", type_=_ts),
            r.c.rev == bp("apply_read_rev", type_=sa.Integer),
        )
        .values(
            status=bp("apply_status", type_=sa.String),
            rev=bp("apply_rev", type_=sa.Integer),
            updated_at=bp("apply_updated", type_=_ts),
        )
        .returning(r.c.reservation_id)
        .cte("changed")
    )
    writes = [
        insert_after(changed, status_history, [c.key for c in status_history.c]),
        insert_after(changed, outbox, ["id", "subject", "payload", "headers"]),
    ]
    if with_release:
        writes.append(due_now(insert_after(changed, seat_releases, QUEUED, pg_insert)))
    return gated(changed, writes)


APPLY = {release: _apply_statement(release) for release in (False, True)}
# The hottest reads, built once too. A reservation is found through its key row, whose created_at
# lets PostgreSQL scan one monthly partition instead of all of them: as a scalar subquery (an
# InitPlan) it prunes the other partitions when the statement starts, custom or generic plan alike.
# (A join on the key row did not: the planner carried the id over to every partition's index.)


def through_key(which: sa.ColumnElement[bool], reservation_id: sa.ColumnElement) -> sa.Select:
    created = sa.select(keys.c.created_at).where(which).scalar_subquery()
    return sa.select(reservations).where(
        reservations.c.reservation_id == reservation_id, reservations.c.created_at == created
    )


_WANTED = sa.bindparam("wanted", type_=_uuid)
GET = through_key(keys.c.reservation_id == _WANTED, _WANTED)
GET_FOR_UPDATE = GET.with_for_update()
FINGERPRINT = sa.select(keys.c.request_fingerprint).where(keys.c.reservation_id == sa.bindparam("wanted", type_=_uuid))


def create_params(r: Reservation, fingerprint: str, lead: Participant, first: StatusChange, event: dict) -> dict:
    """The parameters of CREATE (also run by the benchmark's pg_txn baseline)."""
    key = {
        "reservation_id": r.reservation_id,
        "confirmation_code": r.confirmation_code,
        "created_at": r.created_at,
        "request_fingerprint": fingerprint,
    }
    return {
        **params_of(keys, key),
        **params_of(reservations, {**r.__dict__, "status": r.status.value}),
        **params_of(participants, lead.__dict__),
        **params_of(status_history, history_row(first)),
        **params_of(outbox, event),
    }


def queued_release(reservation_id: uuid.UUID, day: date, trip_id: uuid.UUID, due: datetime) -> dict:
    return {"reservation_id": reservation_id, "trip_date": day, "trip_id": trip_id, "due_at": due, "attempts": 0}
