"""`python -m bench --rows N`: data to grow into. N reservations spread evenly over the last 24 months
(one monthly partition each, created here if missing) and partner bookings, written with COPY
(asyncpg's copy_records_to_table), not RPCs, then vacuumed and analyzed (`settle`)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg

MONTHS = 24
_PRICE, _COMMISSION, _RATE = Decimal("99.50"), Decimal("9.95"), Decimal("0.1")
BATCH = 50_000
_RESERVATION_COLUMNS = (
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
)
_BOOKING_COLUMNS = (
    "booking_id",
    "partner_id",
    "reservation_id",
    "confirmation_code",
    "guest_id",
    "trip_id",
    "trip_date",
    "party_size",
    "status",
    "gross_amount",
    "commission_amount",
    "commission_rate",
    "currency",
    "created_at",
)


def month_starts(now: datetime, months: int = MONTHS) -> list[datetime]:
    """The first instant (UTC) of this month and of the `months - 1` before it, oldest first."""
    year, month = now.year, now.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _spread(n: int, now: datetime, months: int, seed: int) -> Iterator[datetime]:
    """n creation times, the same number in each of the last `months` months, none in the future."""
    rng = random.Random(seed)
    starts = month_starts(now, months)
    for i in range(n):
        start = starts[i % months]
        end = min(now, starts[i % months + 1]) if i % months + 1 < months else now
        yield start + (end - start) * rng.random()


async def ensure_past_partitions(conn: asyncpg.Connection, now: datetime, months: int = MONTHS) -> None:
    for start in month_starts(now, months):
        await conn.execute("SELECT reservations.ensure_partition_for($1)", start)


def _code(i: int, tag: str) -> str:
    return f"L{tag}{i:08X}"[:12]


async def settle(conn: asyncpg.Connection, *tables: str) -> None:
    """Leaves the loaded tables as a long-running database's are, so the timed windows measure the
    reads and not the load's aftermath: VACUUM (FREEZE, ANALYZE) sets the rows' hint bits and the
    visibility map (else the first read of each page dirties and writes it) and keeps autovacuum
    from starting mid-run; CHECKPOINT writes the load's dirty pages out now."""
    for table in tables:
        await conn.execute(f"VACUUM (FREEZE, ANALYZE) {table}")
    await conn.execute("CHECKPOINT")


async def load_reservations(
    dsn: str, n: int, guest_ids: list[str], trip_ids: list[str], months: int = MONTHS, seed: int = 1
) -> list[str]:
    """Writes n reservations (their key rows first) for these guests and trips; returns a sample of
    up to 1,000 of their ids, from every month, for the reads to ask for."""
    now, tag = datetime.now(UTC), uuid.uuid4().hex[:3].upper()
    conn = await asyncpg.connect(dsn)
    try:
        await ensure_past_partitions(conn, now, months)
        rng, sample, made = random.Random(seed), [], 0
        times = _spread(n, now, months, seed)
        while made < n:
            keys, rows = [], []
            for i in range(made, min(n, made + BATCH)):
                rid, created = uuid.UUID(int=rng.getrandbits(128), version=4), next(times)
                code = _code(i, tag)
                keys.append((rid, code, created, "0" * 64))
                trip_date = (created + timedelta(days=rng.randrange(7, 120))).date()
                guest, trip = uuid.UUID(rng.choice(guest_ids)), uuid.UUID(rng.choice(trip_ids))
                rows.append((rid, guest, trip, code, "confirmed", trip_date, 1, _PRICE, "USD", 1, created, created))
                if i % max(1, n // 1000) == 0:
                    sample.append(str(rid))
            async with conn.transaction():
                await conn.copy_records_to_table("reservation_keys", schema_name="reservations", records=keys)
                await conn.copy_records_to_table(
                    "reservations", schema_name="reservations", records=rows, columns=_RESERVATION_COLUMNS
                )
            made += len(rows)
        await settle(conn, "reservations.reservation_keys", "reservations.reservations")
        return sample
    finally:
        await conn.close()


async def load_partner_bookings(
    dsn: str, n: int, partner_id: str, guest_ids: list[str], trip_ids: list[str], seed: int = 2
) -> None:
    """n bookings of one partner (the one the listing scenario signs in as), over the last 24 months."""
    now, rng, partner = datetime.now(UTC), random.Random(seed), uuid.UUID(partner_id)
    conn = await asyncpg.connect(dsn)
    try:
        times, made = _spread(n, now, MONTHS, seed), 0
        while made < n:
            rows = []
            for i in range(made, min(n, made + BATCH)):
                created = next(times)
                ids = (uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(2))
                guest, trip = uuid.UUID(rng.choice(guest_ids)), uuid.UUID(rng.choice(trip_ids))
                day = created.date() + timedelta(days=30)
                booking = (next(ids), partner, next(ids), f"P{i:011X}", guest, trip, day, 1, "confirmed")
                rows.append((*booking, _PRICE, _COMMISSION, _RATE, "USD", created))
            await conn.copy_records_to_table(
                "partner_bookings", schema_name="partners", records=rows, columns=_BOOKING_COLUMNS
            )
            made += len(rows)
        await settle(conn, "partners.partner_bookings")
    finally:
        await conn.close()
