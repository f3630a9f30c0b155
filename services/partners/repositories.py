"""Partner persistence over the tables of db.py, and the unit of work that binds them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.chassis.db import UnitOfWork, newest_first
from services.chassis.saga_store import SagaRows
from services.partners.db import (
    commission_records,
    commission_volumes,
    partner_bookings,
    partners,
    reconciliation_log,
    sagas,
    volume_entries,
)
from services.partners.domain import BookingStatus, CommissionPlan, Partner, PartnerBooking
from services.partners.key_store import IdempotencyRepository


def _partner(row) -> Partner:
    m = dict(row._mapping)
    return Partner(plan=CommissionPlan.from_json(m.pop("commission_plan")), **m)


def _booking(row) -> PartnerBooking:
    values = {col.key: row._mapping[col.key] for col in partner_bookings.c}
    return PartnerBooking(**{**values, "status": BookingStatus(values["status"])})


class PartnerRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, p: Partner) -> None:
        values = {k: v for k, v in p.__dict__.items() if k != "plan"}
        await self.conn.execute(sa.insert(partners).values(**values, commission_plan=p.plan.to_json()))

    async def get(self, partner_id: uuid.UUID, for_update: bool = False) -> Partner | None:
        query = sa.select(partners).where(partners.c.partner_id == partner_id)
        row = (await self.conn.execute(query.with_for_update() if for_update else query)).first()
        return _partner(row) if row else None

    async def by_key_id(self, key_id: str) -> Partner | None:
        row = (await self.conn.execute(_BY_KEY_ID, {"wanted_key_id": key_id})).first()
        return _partner(row) if row else None

    async def save_keys(self, p: Partner) -> None:
        keys = ("api_key_id", "api_key_hash", "previous_key_id", "previous_key_hash", "previous_key_expires_at")
        await self.conn.execute(
            sa.update(partners).where(partners.c.partner_id == p.partner_id).values({k: getattr(p, k) for k in keys})
        )


class BookingRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, b: PartnerBooking, now: datetime) -> bool:
        """Idempotent (a recovered pipeline may record twice): False when it existed."""
        inserted = await self.conn.execute(_ADD_BOOKING, b.__dict__ | {"status": b.status.value})
        if inserted.rowcount:
            await self.conn.execute(
                _ADD_RECORD,
                {
                    "commission_record_id": b.commission_record_id,
                    "booking_id": b.booking_id,
                    "partner_id": b.partner_id,
                    "amount": b.commission_amount,
                    "currency": b.currency,
                    "rate": b.commission_rate,
                    "status": "recorded",
                    "created_at": now,
                },
            )
        return bool(inserted.rowcount)

    async def get(
        self, partner_id: uuid.UUID | None, booking_id: uuid.UUID, for_update: bool = False
    ) -> PartnerBooking | None:
        query = sa.select(partner_bookings).where(partner_bookings.c.booking_id == booking_id)
        if partner_id is not None:  # a partner only ever sees its own bookings
            query = query.where(partner_bookings.c.partner_id == partner_id)
        row = (await self.conn.execute(query.with_for_update() if for_update else query)).first()
        return _booking(row) if row else None

    async def page(self, partner_id: uuid.UUID, filters: dict, position, limit: int) -> list[PartnerBooking]:
        c = partner_bookings.c
        query = sa.select(partner_bookings).where(c.partner_id == partner_id)
        if filters.get("status"):
            query = query.where(c.status == filters["status"])
        if filters.get("date_from"):
            query = query.where(c.trip_date >= filters["date_from"])
        if filters.get("date_to"):
            query = query.where(c.trip_date <= filters["date_to"])
        return [
            _booking(r)
            for r in await self.conn.execute(newest_first(query, c.created_at, c.booking_id, position, limit))
        ]

    async def cancel(self, b: PartnerBooking, now: datetime) -> None:
        await self.conn.execute(
            sa.update(partner_bookings)
            .where(partner_bookings.c.booking_id == b.booking_id)
            .values(status=BookingStatus.CANCELLED.value, cancelled_at=now)
        )
        await self.conn.execute(
            sa.update(commission_records)
            .where(commission_records.c.booking_id == b.booking_id)
            .values(status="reversed", reversed_at=now)
        )

    async def created_between(
        self, partner_id: uuid.UUID | None, start: date, end: date
    ) -> list[tuple[PartnerBooking, str]]:
        """Bookings created in [start, end] (UTC days) with their commission record status."""
        c = partner_bookings.c
        query = (
            sa.select(partner_bookings, commission_records.c.status.label("record_status"))
            .join(commission_records, commission_records.c.booking_id == c.booking_id)
            .where(sa.func.date(sa.func.timezone("UTC", c.created_at)).between(start, end))
            .order_by(c.created_at)
        )
        if partner_id is not None:
            query = query.where(c.partner_id == partner_id)
        rows = (await self.conn.execute(query)).all()
        return [(_booking(r), r.record_status) for r in rows]

    async def log(self, rows: list[dict]) -> None:
        await self.conn.execute(sa.insert(reconciliation_log), rows)


def _take_statement() -> sa.Select:
    v, e, bp = commission_volumes, volume_entries, sa.bindparam  # parameter names are no column's
    booking, partner, month, gross = (
        bp("take_booking", type_=UUID),
        bp("take_partner", type_=UUID),
        bp("take_month", type_=sa.Date),
        bp("take_gross", type_=e.c.gross.type),
    )
    upsert = pg_insert(v).values(partner_id=partner, month=month, bookings=1, gross=gross)
    bump = (
        upsert.on_conflict_do_update(
            index_elements=["partner_id", "month"],
            set_={"bookings": v.c.bookings + 1, "gross": v.c.gross + upsert.excluded.gross},
        )
        .returning(v.c.bookings, v.c.gross)
        .cte("bump")
    )
    entry = sa.insert(e).from_select(
        [e.c.booking_id, e.c.partner_id, e.c.month, e.c.gross, e.c.bookings_after, e.c.gross_after],
        sa.select(booking, partner, month, gross, bump.c.bookings, bump.c.gross),
    )
    return sa.select(bump.c.bookings, bump.c.gross).add_cte(entry.cte("entry"))


def _give_back_statement() -> sa.Update:
    v, e = commission_volumes, volume_entries
    gone = (
        sa.delete(e)
        .where(e.c.booking_id == sa.bindparam("give_back_booking", type_=UUID))
        .returning(e.c.partner_id, e.c.month, e.c.gross)
        .cte("gone")
    )
    return (
        sa.update(v)
        .where(v.c.partner_id == gone.c.partner_id, v.c.month == gone.c.month)
        .values(bookings=v.c.bookings - 1, gross=v.c.gross - gone.c.gross)
    )


_TAKE, _GIVE_BACK = _take_statement(), _give_back_statement()


class VolumeRepository:
    """Where each booking stands in its partner's month (commission tiers count from it)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    async def take(
        self, booking_id: uuid.UUID, partner_id: uuid.UUID, month: date, gross: Decimal
    ) -> tuple[int, Decimal]:
        """The booking's place, this booking included: (bookings, gross) of the month. One statement,
        so bookings at the same moment get consecutive places; taken again, the first place is read
        back (the entry's key refuses a second). Needs an autocommit unit of work."""
        params = {"take_booking": booking_id, "take_partner": partner_id, "take_month": month, "take_gross": gross}
        try:
            bookings, total = (await self.conn.execute(_TAKE, params)).one()
        except IntegrityError:
            e = volume_entries
            bookings, total = (
                await self.conn.execute(
                    sa.select(e.c.bookings_after, e.c.gross_after).where(e.c.booking_id == booking_id)
                )
            ).one()
        return bookings, Decimal(total)

    async def give_back(self, booking_id: uuid.UUID) -> None:
        """The booking no longer counts (compensated or cancelled); once only."""
        await self.conn.execute(_GIVE_BACK, {"give_back_booking": booking_id})


# The booking path's statements, built once (DESIGN §8).
_ADD_BOOKING = pg_insert(partner_bookings).on_conflict_do_nothing()  # values from the parameters
_ADD_RECORD = sa.insert(commission_records)
_BY_KEY_ID = sa.select(partners).where(
    sa.or_(
        partners.c.api_key_id == sa.bindparam("wanted_key_id"),
        partners.c.previous_key_id == sa.bindparam("wanted_key_id"),
    )
)


class PartnersUnitOfWork(UnitOfWork):
    def bind(self, conn) -> None:
        self.partners = PartnerRepository(conn)
        self.bookings = BookingRepository(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.volumes = VolumeRepository(conn)
        self.sagas = SagaRows(conn, sagas)
