"""The seed's tables, columns and seven indexes, and the monthly partitions, in a migrated database."""

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.db import autocommit
from services.chassis.migrations import upgrade
from services.chassis.outbox import outbox_row
from services.cli.databases import SERVICES, prepare
from services.reservations import events as reservation_events
from services.reservations.domain import Participant, Reservation, Status, StatusChange
from services.reservations.ports import CodeCollision, DuplicateRequest
from services.reservations.repositories import ReservationRepository

SEED_INDEXES = {
    "idx_res_guest_date",
    "idx_res_trip_date",
    "idx_res_confirmation",
    "idx_res_status",
    "idx_part_reservation",
    "idx_part_guest",
    "idx_hist_reservation",
}
SEED_COLUMNS = {
    "reservations": [
        "reservation_id",
        "guest_id",
        "trip_id",
        "confirmation_code",
        "status",
        "trip_date",
        "party_size",
        "total_amount",
        "currency",
        "_rev",
        "created_at",
        "updated_at",
    ],
    "participants": ["participant_id", "reservation_id", "guest_id", "role", "waiver_signed", "created_at"],
    "status_history": [
        "history_id",
        "reservation_id",
        "old_status",
        "new_status",
        "changed_by",
        "reason",
        "changed_at",
    ],
}


@pytest.fixture(scope="module")
async def reservations_db(make_database):
    """A migrated reservations database of this module's own: the running service's outbox relay
    (it polls every second) would publish and delete the outbox rows these tests look for."""
    url = await make_database("reservations_schema")
    await prepare("reservations", url)
    engine = create_async_engine(url)
    yield engine
    await engine.dispose()


async def _all(engine, sql: str, **params):
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).all()


async def test_seed_columns_and_indexes_exist(reservations_db):
    for table, columns in SEED_COLUMNS.items():
        rows = await _all(
            reservations_db,
            "SELECT column_name FROM information_schema.columns WHERE table_schema='reservations' AND table_name=:t "
            "ORDER BY ordinal_position",
            t=table,
        )
        assert [r[0] for r in rows] == columns
    indexes = {
        r[0] for r in await _all(reservations_db, "SELECT indexname FROM pg_indexes WHERE schemaname='reservations'")
    }
    assert indexes >= SEED_INDEXES
    unique = await _all(reservations_db, "SELECT indexdef FROM pg_indexes WHERE indexname='idx_res_confirmation'")
    assert "UNIQUE" in unique[0][0]


async def test_reservations_is_partitioned_by_month_and_partitions_are_created_ahead(reservations_db):
    parts = lambda: _all(
        reservations_db,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = "
        "'reservations.reservations'::regclass",
    )
    before = {r[0] for r in await parts()}
    assert "reservations_default" not in before and len(before) >= 4  # this month + 3 ahead (migration 0005)
    async with reservations_db.begin() as conn:
        created = (await conn.execute(sa.text("SELECT reservations.ensure_monthly_partitions(6)"))).scalar_one()
    after = {r[0] for r in await parts()}
    assert created == len(after - before) == 3
    async with reservations_db.begin() as conn:
        assert (await conn.execute(sa.text("SELECT reservations.ensure_monthly_partitions(6)"))).scalar_one() == 0


async def test_a_taken_id_is_a_duplicate_request_and_a_taken_code_a_collision_and_neither_writes_anything(
    reservations_db,
):
    now = datetime.now(UTC)
    made = lambda rid, code: Reservation(
        rid,
        uuid.uuid4(),
        uuid.uuid4(),
        code,
        Status.PENDING,
        date(2031, 1, 1),
        1,
        Decimal("10.00"),
        "USD",
        1,
        now,
        now,
    )

    async def create(r: Reservation) -> None:
        lead = Participant(uuid.uuid4(), r.reservation_id, r.guest_id, "lead", False, now)
        event = outbox_row(reservation_events.created(r), "//test", now)
        async with autocommit(reservations_db) as conn:
            await ReservationRepository(conn).create(r, "f" * 64, lead, StatusChange(r, None, "test", "created"), event)

    first, code = uuid.uuid4(), uuid.uuid4().hex[:12].upper()
    original = made(first, code)
    await create(original)
    twin, collision = made(first, uuid.uuid4().hex[:12].upper()), made(uuid.uuid4(), code)
    for reservation, expected in ((twin, DuplicateRequest), (collision, CodeCollision)):
        with pytest.raises(expected):
            await create(reservation)
    rows = lambda table, rid: _all(
        reservations_db, f"SELECT 1 FROM reservations.{table} WHERE reservation_id = :r", r=rid
    )
    for table in ("reservations", "participants", "status_history"):
        assert len(await rows(table, first)) == 1
        assert await rows(table, collision.reservation_id) == []
    assert (
        await _all(
            reservations_db,
            "SELECT confirmation_code FROM reservations.reservations WHERE reservation_id = :r",
            r=first,
        )
    )[0][0] == code
    written = lambda r: _all(
        reservations_db,
        "SELECT 1 FROM reservations.outbox WHERE payload = :p",
        p=reservation_events.created(r).SerializeToString(),
    )
    assert len(await written(original)) == 1
    assert await written(twin) == [] and await written(collision) == []


async def test_a_reservation_of_a_month_without_a_partition_gets_its_partition_and_is_written(reservations_db):
    """No default partition catches it (migration 0005): the insert makes its month's partition."""
    made_at = datetime(2041, 7, 9, 12, tzinfo=UTC)
    r = Reservation(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4().hex[:12].upper(),
        Status.PENDING,
        date(2041, 8, 1),
        1,
        Decimal("10.00"),
        "USD",
        1,
        made_at,
        made_at,
    )
    lead = Participant(uuid.uuid4(), r.reservation_id, r.guest_id, "lead", False, made_at)
    event = outbox_row(reservation_events.created(r), "//test", made_at)
    async with autocommit(reservations_db) as conn:
        await ReservationRepository(conn).create(r, "f" * 64, lead, StatusChange(r, None, "test", "created"), event)
    found = await _all(
        reservations_db,
        "SELECT tableoid::regclass::text FROM reservations.reservations WHERE reservation_id = :r",
        r=r.reservation_id,
    )
    assert found == [("reservations.reservations_2041_07",)]


async def test_migration_0005_moves_the_default_partitions_rows_to_their_months(make_database):
    url = await make_database("reservations_0005")
    package = SERVICES["reservations"][0]
    await asyncio.to_thread(upgrade, package, url, "0004")
    engine = create_async_engine(url)
    made_at, rid = datetime(2019, 3, 31, 23, 30, tzinfo=UTC), uuid.uuid4()
    try:
        async with engine.begin() as conn:
            params = {"r": rid, "t": made_at, "f": "f" * 64}
            await conn.execute(
                sa.text("INSERT INTO reservations.reservation_keys VALUES (:r, 'ABCDEFGHJKLM', :t, :f)"), params
            )
            await conn.execute(
                sa.text(
                    "INSERT INTO reservations.reservations (reservation_id, guest_id, trip_id, confirmation_code,"
                    " trip_date, party_size, total_amount, created_at, updated_at)"
                    " VALUES (:r, :r, :r, 'ABCDEFGHJKLM', '2019-05-01', 2, 20.00, :t, :t)"
                ),
                params,
            )
        await asyncio.to_thread(upgrade, package, url)
        assert await _all(engine, "SELECT tableoid::regclass::text, party_size FROM reservations.reservations") == [
            ("reservations.reservations_2019_03", 2)
        ]
        assert await _all(engine, "SELECT to_regclass('reservations.reservations_default')") == [(None,)]
    finally:
        await engine.dispose()
