"""Repositories and the unit of work over db.py's statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from services.chassis.db import UnitOfWork
from services.inventory.db import (
    EXPIRE,
    GET_RESERVATION,
    GET_STOCK,
    HOLD,
    RESERVE,
    SETTLE,
    TOMBSTONE,
    UPDATE_LEVEL,
    UPSERT_LEVEL,
)
from services.inventory.domain import Status, Stock, StockLine, StockReservation
from services.inventory.ports import DuplicateReservation, ReserveOutcome

_UNIQUE_VIOLATION = "23505"


def _stock(row) -> Stock:
    m = row._mapping
    return Stock(m["sku"], m["name"], m["on_hand"], m["reserved"])


def _reservation(rows) -> StockReservation | None:
    """A reservation from its rows, one per line (as GET_RESERVATION and SETTLE return them; a
    tombstone's one row has no line)."""
    if not rows:
        return None
    m = rows[0]._mapping
    found = tuple(sorted((StockLine(r.sku, r.quantity) for r in rows if r.sku is not None), key=lambda x: x.sku))
    return StockReservation(
        m["checkout_id"],
        found,
        Status(m["status"]),
        m["hold_seconds"],
        m["created_at"],
        m["expire_time"],
        m["order_id"],
    )


class StockRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def get(self, sku: str) -> Stock | None:
        row = (await self.conn.execute(GET_STOCK, {"g_sku": sku})).first()
        return _stock(row) if row else None

    async def set_level(self, sku: str, name: str, on_hand: int, now: datetime) -> Stock | None:
        """The stock after setting it; None when refused (below reserved) or, without a name, unknown."""
        params = {"l_sku": sku, "l_on_hand": on_hand, "l_now": now}
        statement = UPSERT_LEVEL if name else UPDATE_LEVEL
        row = (await self.conn.execute(statement, {**params, "l_name": name} if name else params)).first()
        return _stock(row) if row else None


class ReservationRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def reserve(self, r: StockReservation) -> ReserveOutcome:
        params = {
            "r_checkout": r.checkout_id,
            "r_skus": [line.sku for line in r.lines],
            "r_quantities": [line.quantity for line in r.lines],
            "r_count": len(r.lines),
            "r_hold": r.hold_seconds,
            "r_now": r.created_at,
            "r_expire": r.expire_time,
        }
        try:
            rows = (await self.conn.execute(RESERVE, params)).all()
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:  # only the checkout's key is unique
                raise DuplicateReservation() from exc
            raise
        return ReserveOutcome(rows[0].fits, rows[0].already, {row.sku: row.available for row in rows})

    async def get(self, checkout_id: uuid.UUID) -> StockReservation | None:
        return _reservation((await self.conn.execute(GET_RESERVATION, {"g_checkout": checkout_id})).all())

    async def settle(self, checkout_id: uuid.UUID, to: Status, now: datetime) -> StockReservation | None:
        """Moves a reserved reservation to `to` (a commit only before it expires); returns it as it
        stands afterwards, None when the checkout has none."""
        rows = (await self.conn.execute(SETTLE[to], {"s_checkout": checkout_id, "s_now": now})).all()
        found = _reservation(rows)
        if found is not None and rows[0].changed:
            return replace(found, status=to)
        return found

    async def hold(self, checkout_id: uuid.UUID, order_id: uuid.UUID, now: datetime) -> bool:
        """Marks a reserved reservation as held for its order (never expired); False when the checkout
        has no reserved one (none, or already released or committed)."""
        params = {"h_checkout": checkout_id, "h_order": order_id, "h_now": now}
        return (await self.conn.execute(HOLD, params)).first() is not None

    async def tombstone(self, checkout_id: uuid.UUID, now: datetime) -> bool:
        """Records that a checkout with no reservation was released; False when it has one (a racing
        reservation was written first: nothing is written)."""
        return (await self.conn.execute(TOMBSTONE, {"t_checkout": checkout_id, "t_now": now})).first() is not None

    async def release_expired(self, now: datetime, batch: int) -> int:
        """Releases up to `batch` reservations expired at `now`; returns how many."""
        return (await self.conn.execute(EXPIRE, {"s_now": now, "s_batch": batch})).scalar_one()


class InventoryUnitOfWork(UnitOfWork):
    stock: StockRepository
    reservations: ReservationRepository

    def bind(self, conn) -> None:
        self.stock = StockRepository(conn)
        self.reservations = ReservationRepository(conn)
