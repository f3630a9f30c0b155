"""partner-integrations' migration 0002 on a database that already holds bookings: the commission
volumes start from the bookings confirmed before it, so tiers do not restart mid-month."""

import asyncio
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.migrations import upgrade


async def test_volumes_are_backfilled_from_confirmed_bookings(make_database):
    url = await make_database(f"partners_mig_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(upgrade, "partners", url, "0001")
    engine = create_async_engine(url)
    partner, now = uuid.uuid4(), datetime(2031, 3, 14, 23, 30, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO partners.partners (partner_id, name, contact_email, webhook_secret, commission_plan, "
                "api_key_id, api_key_hash, created_at) "
                "VALUES (:p, 'P', 'p@example.com', 's', '{}', 'k1', 'h', :now)"
            ),
            {"p": partner, "now": now},
        )
        for status, gross in (("confirmed", "100.00"), ("confirmed", "50.50"), ("cancelled", "999.00")):
            await conn.execute(
                sa.text(
                    "INSERT INTO partners.partner_bookings (booking_id, partner_id, reservation_id, "
                    "confirmation_code, guest_id, trip_id, trip_date, "
                    "party_size, status, gross_amount, commission_amount, commission_rate, currency, created_at) "
                    "VALUES (:b, :p, :r, 'ABCDEFGHJKLM', :g, :t, '2031-04-01', 1, :status, :gross, 0, 0.1, 'USD', :now)"
                ),
                {
                    "b": uuid.uuid4(),
                    "p": partner,
                    "r": uuid.uuid4(),
                    "g": uuid.uuid4(),
                    "t": uuid.uuid4(),
                    "status": status,
                    "gross": gross,
                    "now": now,
                },
            )
    await asyncio.to_thread(upgrade, "partners", url)
    async with engine.connect() as conn:
        volumes = (
            await conn.execute(
                sa.text("SELECT partner_id, month, bookings, gross::text FROM partners.commission_volumes")
            )
        ).all()
        entries = (await conn.execute(sa.text("SELECT count(*) FROM partners.commission_volume_entries"))).scalar_one()
    await engine.dispose()
    assert [tuple(v) for v in volumes] == [(partner, datetime(2031, 3, 1).date(), 2, "150.50")] and entries == 2
