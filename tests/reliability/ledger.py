"""The booking invariants, read straight from the services' databases after a scenario: what the
mesh promised (no orphaned hold, reservation or commission; no seat sold twice) is checked where
it is stored, not through the APIs under test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


async def rows(url: str, sql: str, **params) -> list:
    engine = create_async_engine(url, poolclass=NullPool)  # no pool left behind by a check
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(sql), params)).all()
    finally:
        await engine.dispose()


async def count(url: str, table: str) -> int:
    return (await rows(url, f"SELECT count(*) FROM {table}"))[0][0]


@dataclass
class Databases:
    catalog: str
    reservations: str
    payments: str
    partners: str


async def booking_problems(db: Databases, trip_id: str, day: date, partner_id: str) -> dict[str, list]:
    """Every broken invariant of one departure booked by one partner; empty lists when all hold."""
    departure = await rows(
        db.catalog,
        "SELECT capacity, seats_held FROM catalog.departures WHERE trip_id = :t AND departure_date = :d",
        t=trip_id,
        d=day,
    )
    holds = dict(
        await rows(
            db.catalog,
            "SELECT h.reservation_id::text, h.seats FROM catalog.seat_holds h JOIN catalog.departures d "
            "USING (departure_id) WHERE d.trip_id = :t AND d.departure_date = :d",
            t=trip_id,
            d=day,
        )
    )
    live = dict(
        await rows(
            db.reservations,
            "SELECT reservation_id::text, party_size FROM reservations.reservations "
            "WHERE trip_id = :t AND trip_date = :d AND status <> 'cancelled'",
            t=trip_id,
            d=day,
        )
    )
    bookings = dict(
        await rows(
            db.partners,
            "SELECT reservation_id::text, booking_id::text FROM partners.partner_bookings "
            "WHERE partner_id = :p AND status = 'confirmed'",
            p=partner_id,
        )
    )
    confirmed_bookings = set(bookings.values())
    owed = [
        r[0]
        for r in await rows(
            db.payments,
            "SELECT partner_booking_id::text FROM payments.commission_payouts WHERE partner_id = :p AND status = "
            "'owed'",
            p=partner_id,
        )
    ]
    counted = sum(
        r[0]
        for r in await rows(
            db.partners, "SELECT bookings FROM partners.commission_volumes WHERE partner_id = :p", p=partner_id
        )
    )
    capacity, seats_held = departure[0]
    return {
        # the partner's month counts exactly its confirmed bookings (each took a place; failed ones gave it back)
        "volume_mismatch": [] if counted == len(confirmed_bookings) else [(counted, len(confirmed_bookings))],
        "overbooked": [seats_held] if seats_held > capacity else [],
        "seats_held_mismatch": [] if seats_held == sum(live.values()) else [(seats_held, sum(live.values()))],
        "orphaned_holds": [r for r in holds if r not in live],
        "unheld_reservations": [r for r, size in live.items() if holds.get(r) != size],
        "orphaned_reservations": [r for r in live if r not in bookings],
        "orphaned_commissions": [b for b in owed if b not in confirmed_bookings],
        "unpaid_bookings": [b for b in confirmed_bookings if b not in owed],
    }


async def no_problems(db: Databases, trip_id: str, day: date, partner_id: str) -> bool:
    """For eventually(): true once every invariant holds (compensations may still be in flight)."""
    return not any((await booking_problems(db, trip_id, day, partner_id)).values())


async def open_sagas(partners_url: str) -> list:
    return await rows(
        partners_url,
        "SELECT status, count(*) FROM partners.saga_instances WHERE status IN ('running', 'compensating') GROUP BY "
        "status",
    )


async def bookings_recorded(db: Databases, booking_ids: list[str]) -> dict[str, list]:
    """Bookings answered OK that are missing anything: the booking, its confirmed reservation, its owed payout."""
    ids = list(booking_ids) or ["00000000-0000-0000-0000-000000000000"]
    found = dict(
        await rows(
            db.partners,
            "SELECT booking_id::text, reservation_id::text FROM partners.partner_bookings "
            "WHERE booking_id::text = ANY(:ids) AND status = 'confirmed'",
            ids=ids,
        )
    )
    reservations = {
        r[0]
        for r in await rows(
            db.reservations,
            "SELECT reservation_id::text FROM reservations.reservations "
            "WHERE reservation_id::text = ANY(:ids) AND status = 'confirmed'",
            ids=list(found.values()) or ids,
        )
    }
    payouts = {
        r[0]
        for r in await rows(
            db.payments,
            "SELECT partner_booking_id::text FROM payments.commission_payouts "
            "WHERE partner_booking_id::text = ANY(:ids) AND status = 'owed'",
            ids=ids,
        )
    }
    return {
        "missing_bookings": [b for b in booking_ids if b not in found],
        "missing_reservations": [b for b, r in found.items() if r not in reservations],
        "missing_payouts": [b for b in booking_ids if b not in payouts],
    }
