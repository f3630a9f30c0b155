"""Events this context consumes: the Shopping domain's checked-out cart starts its checkout."""

from __future__ import annotations

import logging

from novatrek.shopping.v1 import events_pb2 as shopping_events

from services.chassis.consumer import Subscription
from services.chassis.errors import InvalidArgument, Violations
from services.checkout import handlers
from services.checkout.protomap import cart_of

log = logging.getLogger("novatrek.checkout.consumers")


def subscriptions(deps: handlers.Deps) -> list[Subscription]:
    """The saga runs to its end inside the delivery (its own units of work; the inbox row commits
    after it): a redelivered cart is the same checkout by its cart id, so it makes one order."""

    async def on_cart_checked_out(event: shopping_events.CartCheckedOut, uow, headers: dict) -> None:
        v = Violations()
        cart = cart_of(event, v)
        try:
            v.raise_if_any()
            checkout = await handlers.checkout_cart(cart, deps)
        except InvalidArgument as refused:  # no redelivery would change it
            log.error("checked-out cart refused", extra={"cart_id": event.cart_id, "error": str(refused)})
            return
        log.info("checked-out cart", extra={"checkout_id": str(checkout.checkout_id), "state": checkout.state})

    return [Subscription(shopping_events.CartCheckedOut, "checkout-cart-checked-out", on_cart_checked_out)]
