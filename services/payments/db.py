"""payments schema: tables, repositories, unit of work. DDL lives in migrations/versions/."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.chassis.db import UnitOfWork, newest_first
from services.chassis.outbox import outbox_table
from services.payments.domain import (
    Authorization,
    AuthorizationRequest,
    AuthorizationStatus,
    ChargeRequest,
    CommissionClaim,
    CommissionPayout,
    Payment,
    PaymentStatus,
    PayoutStatus,
)
from services.payments.ports import DuplicatePayment

metadata = sa.MetaData(schema="payments")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
# numeric(12,2): amounts below 10^10 with at most two decimals (the most any supported currency has).
_money = sa.Numeric(12, 2)


def _processed(tombstones: bool = False) -> list[sa.Column[Any]]:
    """What a call to the processor leaves on a payment or an authorization (new columns per table).
    `tombstones`: the table also holds rows with no request (amount, currency, method reference)."""
    return [
        sa.Column("amount", _money, nullable=tombstones),
        sa.Column("currency", sa.CHAR(3), nullable=tombstones),
        sa.Column("method_reference", sa.String(64), nullable=tombstones),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("processor_reference", sa.String(64), nullable=False),
        sa.Column("decline_reason", sa.String(64), nullable=False, server_default=""),
    ]


payments = sa.Table(
    "payments",
    metadata,
    sa.Column("payment_id", _uuid, primary_key=True),
    sa.Column("request_id", _uuid, nullable=False, unique=True),
    sa.Column("reservation_id", _uuid, nullable=False),
    *_processed(),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_payments_reservation", "reservation_id"),
)
# A row without partner/booking/reservation/amount is a tombstone (domain.CommissionPayout.tombstone).
payouts = sa.Table(
    "commission_payouts",
    metadata,
    sa.Column("payout_id", _uuid, primary_key=True),
    sa.Column("commission_record_id", _uuid, nullable=False, unique=True),
    sa.Column("partner_id", _uuid),
    sa.Column("partner_booking_id", _uuid),
    sa.Column("reservation_id", _uuid),
    sa.Column("amount", _money),
    sa.Column("currency", sa.CHAR(3)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reversal_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("reversed_at", _ts),
    sa.Index("idx_payouts_created", "created_at", "payout_id"),
    sa.Index("idx_payouts_partner_created", "partner_id", "created_at", "payout_id"),
)
# A row without guest/amount/currency/method is a tombstone (AuthorizationRepository.add_tombstone).
authorizations = sa.Table(
    "authorizations",
    metadata,
    sa.Column("authorization_id", _uuid, primary_key=True),
    sa.Column("checkout_id", _uuid, nullable=False, unique=True),
    sa.Column("guest_id", _uuid),
    *_processed(tombstones=True),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

_CLAIM = ("commission_record_id", "partner_id", "partner_booking_id", "reservation_id", "amount", "currency")


def _payment_row(p: Payment) -> dict:
    return {
        **p.request.__dict__,
        "payment_id": p.payment_id,
        "status": p.status.value,
        "processor_reference": p.processor_reference,
        "decline_reason": p.decline_reason,
        "created_at": p.created_at,
    }


def _payment(row) -> Payment:
    m = row._mapping
    request = ChargeRequest(m["request_id"], m["reservation_id"], m["amount"], m["currency"], m["method_reference"])
    return Payment(
        m["payment_id"],
        request,
        PaymentStatus(m["status"]),
        m["processor_reference"],
        m["decline_reason"],
        m["created_at"],
    )


def _payout_row(p: CommissionPayout) -> dict:
    claim = p.claim.__dict__ if p.claim else {"commission_record_id": p.commission_record_id}
    return {
        **claim,
        "payout_id": p.payout_id,
        "status": p.status.value,
        "reversal_reason": p.reversal_reason,
        "created_at": p.created_at,
        "reversed_at": p.reversed_at,
    }


def _payout(row) -> CommissionPayout:
    m = row._mapping
    claim = CommissionClaim(*(m[c] for c in _CLAIM)) if m["partner_id"] else None
    return CommissionPayout(
        m["payout_id"],
        m["commission_record_id"],
        PayoutStatus(m["status"]),
        m["created_at"],
        claim,
        m["reversal_reason"],
        m["reversed_at"],
    )


class PaymentRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, p: Payment) -> None:
        stmt = pg_insert(payments).values(_payment_row(p)).on_conflict_do_nothing(index_elements=["request_id"])
        if (await self.conn.execute(stmt.returning(payments.c.payment_id))).first() is None:
            raise DuplicatePayment()

    async def get(self, payment_id: uuid.UUID) -> Payment | None:
        row = (await self.conn.execute(sa.select(payments).where(payments.c.payment_id == payment_id))).first()
        return _payment(row) if row else None

    async def by_request(self, request_id: uuid.UUID) -> Payment | None:
        row = (await self.conn.execute(sa.select(payments).where(payments.c.request_id == request_id))).first()
        return _payment(row) if row else None


class PayoutRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add_or_lock(self, p: CommissionPayout) -> CommissionPayout:
        """Inserts `p`, or, when its commission record has a payout (or tombstone) already, returns
        that one locked. One row per record serialises racing process and reverse calls."""
        stmt = pg_insert(payouts).values(_payout_row(p)).on_conflict_do_nothing(index_elements=["commission_record_id"])
        if (await self.conn.execute(stmt.returning(payouts.c.payout_id))).first() is not None:
            return p
        query = sa.select(payouts).where(payouts.c.commission_record_id == p.commission_record_id).with_for_update()
        return _payout((await self.conn.execute(query)).one())

    async def save(self, p: CommissionPayout) -> None:
        await self.conn.execute(sa.update(payouts).where(payouts.c.payout_id == p.payout_id).values(_payout_row(p)))

    async def search(
        self, partner_id: uuid.UUID | None, status: PayoutStatus | None, position: list | None, limit: int
    ) -> list[CommissionPayout]:
        query = sa.select(payouts).where(payouts.c.partner_id.is_not(None))  # tombstones are no payouts
        if partner_id:
            query = query.where(payouts.c.partner_id == partner_id)
        if status:
            query = query.where(payouts.c.status == status.value)
        rows = await self.conn.execute(newest_first(query, payouts.c.created_at, payouts.c.payout_id, position, limit))
        return [_payout(r) for r in rows]


_AUTHORIZATION = ("checkout_id", "guest_id", "amount", "currency", "method_reference")
# Built once: an authorization is written by the first twin, read by key, locked to move it along.
_ADD_AUTHORIZATION = (
    pg_insert(authorizations).on_conflict_do_nothing(index_elements=["checkout_id"]).returning(authorizations)
)
# Tombstones are never read as authorizations: by id they are not found, by checkout nothing is held.
_AUTHORIZATION_BY = {
    key: sa.select(authorizations).where(
        authorizations.c[key] == sa.bindparam("key"), authorizations.c.guest_id.is_not(None)
    )
    for key in ("authorization_id", "checkout_id")
}
_TOMBSTONE = (
    pg_insert(authorizations)
    .values(
        authorization_id=sa.bindparam("id"),
        checkout_id=sa.bindparam("checkout_id"),
        status=AuthorizationStatus.VOIDED.value,
        processor_reference="",
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=["checkout_id"])
    .returning(authorizations.c.authorization_id)
)
_AUTHORIZATION_LOCKED = {key: query.with_for_update() for key, query in _AUTHORIZATION_BY.items()}
_MOVE_AUTHORIZATION = (
    sa.update(authorizations)
    .where(authorizations.c.authorization_id == sa.bindparam("id"))
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("updated_at"))
)


def _authorization_row(a: Authorization) -> dict:
    return {
        **a.request.__dict__,
        "authorization_id": a.authorization_id,
        "status": a.status.value,
        "processor_reference": a.processor_reference,
        "decline_reason": a.decline_reason,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def _authorization(row) -> Authorization:
    m = row._mapping
    return Authorization(
        m["authorization_id"],
        AuthorizationRequest(*(m[c] for c in _AUTHORIZATION)),
        AuthorizationStatus(m["status"]),
        m["processor_reference"],
        m["decline_reason"],
        m["created_at"],
        m["updated_at"],
    )


class AuthorizationRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, a: Authorization) -> Authorization | None:
        """Stores `a`; None when its checkout has an authorization already (a twin's)."""
        row = (await self.conn.execute(_ADD_AUTHORIZATION, _authorization_row(a))).first()
        return _authorization(row) if row else None

    async def get(self, authorization_id: uuid.UUID, for_update: bool = False) -> Authorization | None:
        return await self._one("authorization_id", authorization_id, for_update)

    async def by_checkout(self, checkout_id: uuid.UUID, for_update: bool = False) -> Authorization | None:
        return await self._one("checkout_id", checkout_id, for_update)

    async def add_tombstone(self, checkout_id: uuid.UUID, now: datetime) -> bool:
        """A voided row with no request for a checkout with no authorization, so that an AuthorizePayment
        still in flight cannot store one; False when the checkout has a row (an authorization or one)."""
        values = {"id": uuid.uuid4(), "checkout_id": checkout_id, "now": now}
        return (await self.conn.execute(_TOMBSTONE, values)).first() is not None

    async def save(self, a: Authorization) -> None:
        values = {"id": a.authorization_id, "status": a.status.value, "updated_at": a.updated_at}
        await self.conn.execute(_MOVE_AUTHORIZATION, values)

    async def _one(self, column: str, key: uuid.UUID, for_update: bool) -> Authorization | None:
        query = (_AUTHORIZATION_LOCKED if for_update else _AUTHORIZATION_BY)[column]
        row = (await self.conn.execute(query, {"key": key})).first()
        return _authorization(row) if row else None


class PaymentUnitOfWork(UnitOfWork):
    payments: PaymentRepository
    payouts: PayoutRepository
    authorizations: AuthorizationRepository

    def bind(self, conn) -> None:
        self.payments = PaymentRepository(conn)
        self.payouts = PayoutRepository(conn)
        self.authorizations = AuthorizationRepository(conn)
