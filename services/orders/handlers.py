"""Order use cases: (command, deps) -> result. Each write is one statement (autocommit)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.orders import events
from services.orders.commands import ChangeStatus, CreateOrder, ListOrders
from services.orders.domain import Order, OrderStatus

# Who the first history entry names: orders are placed by the checkout saga.
PLACED_BY = "checkout"
_CHANGE_ATTEMPTS = 3


@dataclass
class Deps:
    uow: Callable[..., Any]  # OrderUnitOfWork, or an in-memory fake in unit tests
    clock: Callable[[], datetime] = field(default=utcnow)


async def create_order(cmd: CreateOrder, deps: Deps) -> Order:
    """Writes first (no read before a write that answers for itself); only an order that exists
    already is read, and answered if it is this very request."""
    placed = Order.place(cmd.checkout_id, cmd.guest_id, cmd.items, cmd.authorization_id, PLACED_BY, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        if await uow.orders.create(placed, uow.event_row(events.created(placed), placed.created_at)):
            return placed
        stored = await uow.orders.get(placed.order_id)
    if stored is None:  # the id conflicted with a tombstone: its cancel came first
        raise FailedPrecondition(
            f"order {placed.order_id} was cancelled before it was placed",
            reason="ORDER_CANCELLED",
            metadata={"order_id": str(placed.order_id), "checkout_id": str(cmd.checkout_id)},
        )
    if not stored.same_request(placed):
        raise InvalidArgument(
            f"checkout_id {cmd.checkout_id} was already used for a different order",
            reason="IDEMPOTENCY_KEY_REUSED",
            metadata={"checkout_id": str(cmd.checkout_id)},
        )
    return stored


async def get_order(order_id: uuid.UUID, deps: Deps) -> Order:
    async with deps.uow(read_only=True) as uow:
        found = await uow.orders.get(order_id)
    if found is None:
        raise NotFound(f"order {order_id} not found", reason="ORDER_NOT_FOUND")
    return found


async def change_status(cmd: ChangeStatus, deps: Deps) -> Order:
    """Read, decide, then one revision-checked write with its history row and event. A change made
    in between makes the write miss; it is decided again on a fresh read."""
    for _ in range(_CHANGE_ATTEMPTS):
        current = await _to_change(cmd, deps)
        changed = current.moved_to(cmd.to, cmd.changed_by, cmd.reason, deps.clock())
        if changed is None:  # already there: answered unchanged, nothing published
            return current
        async with deps.uow(autocommit=True) as uow:
            if await uow.orders.apply(changed, uow.event_row(events.status_changed(changed), changed.updated_at)):
                return changed
    raise Aborted(f"order {cmd.order_id} keeps changing; re-read and retry", reason="CONCURRENT_CHANGE")


async def _to_change(cmd: ChangeStatus, deps: Deps) -> Order:
    """The order to change. Cancelling an order not placed (yet) leaves a tombstone of its id, so a
    CreateOrder still on its way (the saga's call its compensation overtook) is refused, and answers
    NOT_FOUND as before: nothing to undo. If the order was placed meanwhile it is the one to cancel."""
    try:
        return await get_order(cmd.order_id, deps)
    except NotFound:
        if cmd.to is not OrderStatus.CANCELLED:
            raise
        async with deps.uow(autocommit=True) as uow:
            if await uow.orders.tombstone(cmd.order_id, deps.clock()):
                raise
        return await get_order(cmd.order_id, deps)


async def list_orders(q: ListOrders, deps: Deps) -> tuple[list[Order], list | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.orders.of_guest(q.guest_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda o: [o.created_at.isoformat(), str(o.order_id)])
