"""Partner persistence over the tables of db.py, and the unit of work that binds them."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from novatrek.partners.v1 import partners_pb2 as pb
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.chassis.db import UnitOfWork, newest_first
from services.chassis.saga_store import SagaRows
from services.chassis.typedjson import from_json, to_json
from services.partners.db import (
    commission_records,
    commission_volumes,
    idempotency_keys,
    partner_bookings,
    partners,
    reconciliation_log,
    sagas,
    volume_entries,
)
from services.partners.domain import BookingStatus, CommissionPlan, Partner, PartnerBooking
from services.partners.ports import EarlierRequest
from services.partners.protomap import booking_from_pb


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


# A stored answer: the booking's JSON, or a registered partner's id, with its format's marker. The
# release before stored the serialized CreatePartnerBookingResponse (proto bytes, never starting with
# "{"): those rows are still read.
ANSWER_FORMAT = "partner_booking.v1"
REGISTRATION_FORMAT = "partner_registration.v1"


def _earlier(row: Any) -> EarlierRequest:
    earlier = EarlierRequest(row.request_hash, row.state == "in_flight")
    if row.response is None:
        return earlier
    if row.is_error:
        return replace(earlier, error=json.loads(row.response))
    if row.response[:1] != b"{":
        legacy = pb.CreatePartnerBookingResponse.FromString(row.response)
        return replace(earlier, booking=booking_from_pb(legacy.booking))
    answer = json.loads(row.response)
    if answer.get("format") == ANSWER_FORMAT:
        return replace(earlier, booking=from_json(PartnerBooking, answer["booking"]))
    if answer.get("format") == REGISTRATION_FORMAT:
        return replace(earlier, partner_id=uuid.UUID(answer["partner_id"]))
    raise ValueError(f"unknown stored answer format {answer.get('format')!r}")


def _claim_statement() -> sa.Insert:
    """The claim of a key (see IdempotencyRepository.claim), with parameters."""
    t, bp = idempotency_keys, sa.bindparam  # parameter names are no column's
    statement = pg_insert(t).values(
        partner_id=bp("claim_partner", type_=UUID),
        idempotency_key=bp("claim_key", type_=t.c.idempotency_key.type),
        request_hash=bp("claim_hash", type_=t.c.request_hash.type),
        state="in_flight",
        response=None,
        is_error=False,
        created_at=bp("claim_now", type_=t.c.created_at.type),
        expires_at=bp("claim_expires", type_=t.c.expires_at.type),
    )
    taken_over = {
        name: statement.excluded[name]
        for name in ("request_hash", "state", "response", "is_error", "created_at", "expires_at")
    }
    return statement.on_conflict_do_update(
        index_elements=["partner_id", "idempotency_key"],
        set_=taken_over,
        where=t.c.expires_at < bp("claim_now", type_=t.c.created_at.type),
    ).returning(t.c.partner_id)


def _complete_statement() -> sa.Update:
    t, bp = idempotency_keys, sa.bindparam
    return (
        sa.update(t)
        .where(t.c.partner_id == bp("done_partner", type_=UUID), t.c.idempotency_key == bp("done_key"))
        .values(state="completed", response=bp("done_response"), is_error=bp("done_error"))
    )


# The booking path's statements, built once (DESIGN §8).
_CLAIM, _COMPLETE = _claim_statement(), _complete_statement()
_ADD_BOOKING = pg_insert(partner_bookings).on_conflict_do_nothing()  # values from the parameters
_ADD_RECORD = sa.insert(commission_records)
_BY_KEY_ID = sa.select(partners).where(
    sa.or_(
        partners.c.api_key_id == sa.bindparam("wanted_key_id"),
        partners.c.previous_key_id == sa.bindparam("wanted_key_id"),
    )
)


class IdempotencyRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def claim(self, partner_id: uuid.UUID, key: str, request_hash: str, now: datetime, expires: datetime):
        """Claims the key for a request in flight; returns None when claimed, else the existing row.
        One statement: a row whose retention expired is taken over by the ON CONFLICT branch."""
        t = idempotency_keys
        params = {"claim_partner": partner_id, "claim_key": key, "claim_hash": request_hash, "claim_now": now}
        claimed = await self.conn.execute(_CLAIM, {**params, "claim_expires": expires})
        if claimed.first() is not None:
            return None
        row = (
            await self.conn.execute(sa.select(t).where(t.c.partner_id == partner_id, t.c.idempotency_key == key))
        ).one()
        return _earlier(row)

    async def complete(self, partner_id: uuid.UUID, key: str, booking: PartnerBooking) -> None:
        answer = {"format": ANSWER_FORMAT, "booking": to_json(booking)}
        await self._complete(partner_id, key, json.dumps(answer).encode(), is_error=False)

    async def complete_registration(self, scope: uuid.UUID, key: str, partner_id: uuid.UUID) -> None:
        answer = {"format": REGISTRATION_FORMAT, "partner_id": str(partner_id)}
        await self._complete(scope, key, json.dumps(answer).encode(), is_error=False)

    async def refuse(self, partner_id: uuid.UUID, key: str, error: dict) -> None:
        """Stores a final error (its chassis error_record) as the answer."""
        await self._complete(partner_id, key, json.dumps(error).encode(), is_error=True)

    async def _complete(self, partner_id: uuid.UUID, key: str, response: bytes, is_error: bool) -> None:
        params = {"done_partner": partner_id, "done_key": key, "done_response": response, "done_error": is_error}
        await self.conn.execute(_COMPLETE, params)

    async def release(self, partner_id: uuid.UUID, key: str) -> None:
        """Forgets a claim whose request failed transiently, so the partner may retry with it. A completed
        key stays: its answer was committed (a failure seen after the commit must not free it)."""
        t = idempotency_keys
        await self.conn.execute(
            sa.delete(t).where(t.c.partner_id == partner_id, t.c.idempotency_key == key, t.c.state == "in_flight")
        )

    async def purge_expired(self, now: datetime) -> int:
        return (
            await self.conn.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.expires_at < now))
        ).rowcount


class PartnersUnitOfWork(UnitOfWork):
    def bind(self, conn) -> None:
        self.partners = PartnerRepository(conn)
        self.bookings = BookingRepository(conn)
        self.idempotency = IdempotencyRepository(conn)
        self.volumes = VolumeRepository(conn)
        self.sagas = SagaRows(conn, sagas)
