"""CheckoutService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import time

from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc

from services.chassis.context import deadline_var
from services.chassis.errors import Violations
from services.chassis.protoconv import parse_uuid
from services.checkout import handlers
from services.checkout.protomap import cart_of, checkout_to_pb


class CheckoutServicer(checkout_pb2_grpc.CheckoutServiceServicer):
    def __init__(self, deps: handlers.Deps, checkout_timeout_s: float) -> None:
        self.deps, self.checkout_timeout_s = deps, checkout_timeout_s

    async def CheckoutCart(self, request, context):
        v = Violations()
        cart = cart_of(request, v)
        v.raise_if_any()
        if deadline_var.get() is None:  # a caller without deadline still gets a bounded checkout
            deadline_var.set(time.monotonic() + self.checkout_timeout_s)
        return pb.CheckoutCartResponse(checkout=checkout_to_pb(await handlers.checkout_cart(cart, self.deps)))

    async def GetCheckout(self, request, context):
        v = Violations()
        checkout_id = parse_uuid(request.checkout_id, "checkout_id", v)
        v.raise_if_any()
        return pb.GetCheckoutResponse(checkout=checkout_to_pb(await handlers.get_checkout(checkout_id, self.deps)))
