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
        if (authorization_id := _uuid_or_none(event.authorization_id)) is None:  # redelivery would not fix it
            log.error("completed order names no valid authorization", extra={"order_id": event.order_id})
            return
        try:
            await capture_in(uow, authorization_id, deps)
        except (NotFound, FailedPrecondition) as refused:  # no redelivery would change it
            log.error("completed order not captured", extra={"order_id": event.order_id, "error": str(refused)})

    async def on_order_cancelled(event: order_events.OrderCancelled, uow, headers: dict) -> None:
        # By checkout id when the order names no (valid) authorization: the processor may hold one anyway.
        if (by_id := _uuid_or_none(event.authorization_id)) is None and event.authorization_id:
            log.warning("cancelled order's authorization id is malformed", extra={"order_id": event.order_id})
        by_checkout = None if by_id else _uuid_or_none(event.checkout_id)
        if by_id is None and by_checkout is None:
            log.error("cancelled order names nothing to void", extra={"order_id": event.order_id})
            return
        await void_in(uow, VoidAuthorization(by_id, by_checkout, event.reason), deps)

    return [
        Subscription(order_events.OrderCompleted, "payments-order-completed", on_order_completed),
        Subscription(order_events.OrderCancelled, "payments-order-cancelled", on_order_cancelled),
    ]


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
