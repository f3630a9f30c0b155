"""Events this context consumes: an order's end settles its checkout's authorization."""

from __future__ import annotations

import logging
import uuid

from novatrek.orders.v1 import events_pb2 as order_events

from services.chassis.consumer import Subscription
from services.chassis.errors import FailedPrecondition, NotFound
from services.payments.commands import VoidAuthorization
from services.payments.handlers import Deps, capture_in, void_in

log = logging.getLogger("novatrek.payments.consumers")


def subscriptions(deps: Deps) -> list[Subscription]:
    """Each runs in the consumer's unit of work, with the event id in the inbox: applied once."""

    async def on_order_completed(event: order_events.OrderCompleted, uow, headers: dict) -> None:
        try:
            await capture_in(uow, uuid.UUID(event.authorization_id), deps)
        except (NotFound, FailedPrecondition) as refused:  # no redelivery would change it
            log.error("completed order not captured", extra={"order_id": event.order_id, "error": str(refused)})

    async def on_order_cancelled(event: order_events.OrderCancelled, uow, headers: dict) -> None:
        # By checkout id when the order names no authorization: the processor may hold one anyway.
        by_id = uuid.UUID(event.authorization_id) if event.authorization_id else None
        cmd = VoidAuthorization(by_id, None if by_id else uuid.UUID(event.checkout_id), event.reason)
        await void_in(uow, cmd, deps)

    return [
        Subscription(order_events.OrderCompleted, "payments-order-completed", on_order_completed),
        Subscription(order_events.OrderCancelled, "payments-order-cancelled", on_order_cancelled),
    ]
