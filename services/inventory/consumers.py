"""Events this context consumes: an order holds its checkout's stock reservation (it no longer
expires), and the order's end settles it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from novatrek.orders.v1 import events_pb2 as order_events

from services.chassis.consumer import Subscription
from services.chassis.errors import FailedPrecondition, NotFound
from services.chassis.protoconv import utcnow
from services.inventory.handlers import commit_in, hold_in, release_in

log = logging.getLogger("novatrek.inventory.consumers")


async def on_order_created(event: order_events.OrderCreated, uow, headers: dict) -> None:
    """Holds the stock for the order until it completes or is cancelled. A reservation gone already
    (released or expired first) cannot be held: logged for the operators, not retried."""
    if not await hold_in(uow, uuid.UUID(event.checkout_id), uuid.UUID(event.order_id), utcnow()):
        log.warning(
            "created order whose stock is not reserved",
            extra={"order_id": event.order_id, "checkout_id": event.checkout_id},
        )


async def on_order_completed(event: order_events.OrderCompleted, uow, headers: dict) -> None:
    """The stock leaves. A reservation gone (released, expired, never made) cannot be committed any
    more: redelivering would not change that, so it is logged for the operators, not retried."""
    try:
        await commit_in(uow, uuid.UUID(event.checkout_id), utcnow())
    except (NotFound, FailedPrecondition) as refused:
        log.warning(
            "completed order whose stock is not reserved",
            extra={"order_id": event.order_id, "checkout_id": event.checkout_id, "reason": refused.reason},
        )


async def on_order_cancelled(event: order_events.OrderCancelled, uow, headers: dict) -> None:
    await release_in(uow, uuid.UUID(event.checkout_id), utcnow())


SUBSCRIPTIONS: list[Subscription[Any]] = [
    Subscription(order_events.OrderCreated, "inventory-order-created", on_order_created),
    Subscription(order_events.OrderCompleted, "inventory-order-completed", on_order_completed),
    Subscription(order_events.OrderCancelled, "inventory-order-cancelled", on_order_cancelled),
]
