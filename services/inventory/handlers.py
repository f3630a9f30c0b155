"""Inventory use cases: (command, deps) -> result. Every write is one statement (see db.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import NotFound
from services.chassis.protoconv import utcnow
from services.inventory.commands import ReserveInventory, SetStockLevel
from services.inventory.domain import Status, Stock, StockReservation, committed, level_refused, refusal
from services.inventory.ports import DuplicateReservation


@dataclass
class Deps:
    uow: Callable[..., Any]  # InventoryUnitOfWork, or an in-memory fake in unit tests
    default_hold_s: int = 15 * 60
    clock: Callable[[], datetime] = field(default=utcnow)


async def reserve_inventory(cmd: ReserveInventory, deps: Deps) -> StockReservation:
    hold_s = cmd.hold_seconds or deps.default_hold_s
    reservation = StockReservation.held(cmd.checkout_id, cmd.lines, hold_s, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        try:
            outcome = await uow.reservations.reserve(reservation)
        except DuplicateReservation:  # a concurrent twin wrote it first
            outcome = None
        if outcome is None or outcome.already:  # a repeat: answer what the first request made
            stored: StockReservation = await uow.reservations.get(cmd.checkout_id)
            return stored.answering(reservation.lines, hold_s)
    if not outcome.taken:
        raise refusal(reservation.lines, outcome.available)
    return reservation


async def release_inventory(checkout_id: uuid.UUID, deps: Deps) -> StockReservation | None:
    """Idempotent; None when the checkout has no reservation. A committed one stays committed."""
    async with deps.uow(autocommit=True) as uow:
        return await release_in(uow, checkout_id, deps.clock())


async def release_in(uow, checkout_id: uuid.UUID, now: datetime) -> StockReservation | None:
    """A checkout with no reservation is answered None and left a tombstone, so a reservation that
    arrives later (a saga's call overtaken by its compensation) takes nothing."""
    while (found := await uow.reservations.settle(checkout_id, Status.RELEASED, now)) is None:
        if await uow.reservations.tombstone(checkout_id, now):
            return None
        # a racing reservation was written first: release it
    return None if found.tombstone else found


async def commit_inventory(checkout_id: uuid.UUID, deps: Deps) -> StockReservation:
    async with deps.uow(autocommit=True) as uow:
        return await commit_in(uow, checkout_id, deps.clock())


async def commit_in(uow, checkout_id: uuid.UUID, now: datetime) -> StockReservation:
    """Idempotent; a reservation released, or expired before this, is RESERVATION_RELEASED."""
    return committed(checkout_id, await uow.reservations.settle(checkout_id, Status.COMMITTED, now))


async def hold_in(uow, checkout_id: uuid.UUID, order_id: uuid.UUID, now: datetime) -> bool:
    """The checkout's reservation, held for its order until the order ends: the expiry sweep no longer
    releases it. Idempotent; False when the checkout has no reserved reservation."""
    return await uow.reservations.hold(checkout_id, order_id, now)


async def release_expired(deps: Deps, batch: int) -> int:
    """Releases every reservation expired by now, `batch` per statement, no lock held across them."""
    total = 0
    while True:
        async with deps.uow(autocommit=True) as uow:
            released = await uow.reservations.release_expired(deps.clock(), batch)
        total += released
        if released < batch:
            return total


async def get_stock(sku: str, deps: Deps) -> Stock:
    async with deps.uow(read_only=True) as uow:
        found = await uow.stock.get(sku)
    if found is None:
        raise NotFound(f"SKU {sku} does not exist", reason="SKU_NOT_FOUND", metadata={"sku": sku})
    return found


async def set_stock_level(cmd: SetStockLevel, deps: Deps) -> Stock:
    async with deps.uow(autocommit=True) as uow:
        stock = await uow.stock.set_level(cmd.sku, cmd.name, cmd.on_hand, deps.clock())
        if stock is None:
            raise level_refused(cmd.sku, await uow.stock.get(cmd.sku), cmd.on_hand)
    return stock
