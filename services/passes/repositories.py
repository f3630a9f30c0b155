"""Repositories and the unit of work over db.py's statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.chassis.db import UnitOfWork, page_params
from services.chassis.money import quantize
from services.passes.db import (
    COMPANY_PAGES,
    CONSUME,
    CREATE_PRODUCT,
    CUSTOMER_PAGES,
    ENTITLEMENT_BY_REQUEST,
    GET_ENTITLEMENT,
    GET_PRODUCT,
    ISSUE,
    PRODUCT_BY_REQUEST,
    RESTORE,
    STATE,
    TOMBSTONE,
)
from services.passes.domain import Entitlement, PassProduct, SessionUse, Usage, UsageStatus
from services.passes.ports import DuplicateUsage

_UNIQUE_VIOLATION = "23505"


def _product(row) -> PassProduct:
    m = row._mapping
    return PassProduct(
        m["product_id"],
        m["company_id"],
        m["name"],
        m["sessions"],
        m["validity_days"],
        tuple(m["activity_ids"]),
        quantize(Decimal(m["price"]), m["currency"]),
        m["currency"],
        m["created_at"],
    )


def _entitlement(row) -> Entitlement | None:
    m = row._mapping
    if m["entitlement_id"] is None:  # STATE's outer join found none
        return None
    return Entitlement(
        m["entitlement_id"],
        m["product_id"],
        m["company_id"],
        m["customer_id"],
        m["sessions_total"],
        m["sessions_remaining"],
        tuple(m["activity_ids"]),
        m["valid_from"],
        m["expire_time"],
        m["created_at"],
    )


def _usage(row, prefix: str = "") -> Usage | None:
    m = row._mapping
    if m[f"{prefix}booking_id"] is None:
        return None
    return Usage(
        m[f"{prefix}booking_id"],
        m[f"{prefix}entitlement_id"],
        m[f"{prefix}activity_id"],
        m[f"{prefix}session_start"],
        UsageStatus(m[f"{prefix}status"]),
        m[f"{prefix}created_at"],
        m[f"{prefix}restored_at"],
    )


def _must(entitlement: Entitlement | None) -> Entitlement:
    if entitlement is None:
        raise RuntimeError("a statement that changed an entitlement returned none")
    return entitlement


class ProductRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def create(self, p: PassProduct, request_id: uuid.UUID) -> bool:
        """False when the request_id made a product already (nothing written)."""
        values: dict[str, Any] = {f"c_{k}": v for k, v in vars(p).items()} | {"c_request_id": request_id}
        values["c_activity_ids"] = list(p.activity_ids)
        return (await self.conn.execute(CREATE_PRODUCT, values)).first() is not None

    async def get(self, product_id: uuid.UUID) -> PassProduct | None:
        row = (await self.conn.execute(GET_PRODUCT, {"g_product": product_id})).first()
        return _product(row) if row else None

    async def by_request(self, request_id: uuid.UUID) -> PassProduct | None:
        row = (await self.conn.execute(PRODUCT_BY_REQUEST, {"g_request": request_id})).first()
        return _product(row) if row else None


class EntitlementRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def issue(
        self, entitlement_id: uuid.UUID, request_id: uuid.UUID, product_id: uuid.UUID, customer_id: uuid.UUID, now
    ) -> Entitlement | None:
        """The new entitlement; None when the product does not exist or the request_id was used."""
        params = {
            "i_entitlement": entitlement_id,
            "i_request": request_id,
            "i_product": product_id,
            "i_customer": customer_id,
            "i_now": now,
        }
        row = (await self.conn.execute(ISSUE, params)).first()
        return _entitlement(row) if row else None

    async def get(self, entitlement_id: uuid.UUID) -> Entitlement | None:
        row = (await self.conn.execute(GET_ENTITLEMENT, {"g_entitlement": entitlement_id})).first()
        return _entitlement(row) if row else None

    async def by_request(self, request_id: uuid.UUID) -> Entitlement | None:
        row = (await self.conn.execute(ENTITLEMENT_BY_REQUEST, {"g_request": request_id})).first()
        return _entitlement(row) if row else None

    async def of_customer(
        self, customer_id: uuid.UUID, company_id: uuid.UUID | None, position: list | None, limit: int
    ) -> list[Entitlement]:
        first, after = COMPANY_PAGES if company_id else CUSTOMER_PAGES
        params = page_params(position, limit) | {"page_customer": customer_id}
        if company_id:
            params["page_company"] = company_id
        rows = await self.conn.execute(after if position else first, params)
        return [_must(_entitlement(row)) for row in rows]


class UsageRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def consume(self, use: SessionUse, now: datetime) -> Entitlement | None:
        """The entitlement after taking one session for the booking; None when it took nothing."""
        params = {
            "u_entitlement": use.entitlement_id,
            "u_booking": use.booking_id,
            "u_customer": use.customer_id,
            "u_activity": use.activity_id,
            "u_start": use.session_start,
            "u_now": now,
        }
        try:
            row = (await self.conn.execute(CONSUME, params)).first()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:  # only the booking's usage key is unique
                raise DuplicateUsage() from exc
            raise
        return _entitlement(row) if row else None

    async def restore(
        self, entitlement_id: uuid.UUID, booking_id: uuid.UUID, now: datetime
    ) -> tuple[Entitlement, Usage] | None:
        """The entitlement and usage after restoring the booking's consumed usage; None when it had none."""
        params = {"r_entitlement": entitlement_id, "r_booking": booking_id, "r_now": now}
        row = (await self.conn.execute(RESTORE, params)).first()
        if row is None:
            return None
        entitlement, usage = _must(_entitlement(row)), _usage(row, "u_")
        if row.after is not None:
            entitlement = replace(entitlement, sessions_remaining=row.after)
        assert usage is not None
        return entitlement, usage

    async def state(self, entitlement_id: uuid.UUID, booking_id: uuid.UUID) -> tuple[Entitlement | None, Usage | None]:
        """The entitlement and the booking's usage as they stand (either None)."""
        row = (await self.conn.execute(STATE, {"s_entitlement": entitlement_id, "s_booking": booking_id})).one()
        return _entitlement(row), _usage(row, "u_")

    async def tombstone(self, entitlement_id: uuid.UUID, booking_id: uuid.UUID, now: datetime) -> Usage | None:
        """The tombstone of a booking with no usage; None when it has one after all (a racing consume)
        or the entitlement does not exist."""
        params = {"t_entitlement": entitlement_id, "t_booking": booking_id, "t_now": now}
        row = (await self.conn.execute(TOMBSTONE, params)).first()
        return _usage(row) if row else None


class PassUnitOfWork(UnitOfWork):
    products: ProductRepository
    entitlements: EntitlementRepository
    usages: UsageRepository

    def bind(self, conn) -> None:
        self.products = ProductRepository(conn)
        self.entitlements = EntitlementRepository(conn)
        self.usages = UsageRepository(conn)
