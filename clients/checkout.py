"""Typed async client of checkout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["CheckoutService"].full_name
# CheckoutCart is keyed by cart_id (a repeat answers the first checkout): both may be retried.
IDEMPOTENT = ["CheckoutCart", "GetCheckout"]


@dataclass(frozen=True)
class CartLine:
    """One line as the cart showed it."""

    sku: str
    name: str
    unit_price: Decimal
    currency: str
    quantity: int

    def to_pb(self) -> pb.CartLine:
        price = money_to_proto(self.unit_price, self.currency)
        return pb.CartLine(sku=self.sku, name=self.name, unit_price=price, quantity=self.quantity)


class CheckoutClient(TypedClient):
    dependency, service, stub_class = "checkout", SERVICE, checkout_pb2_grpc.CheckoutServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def checkout_cart(
        self, cart_id: str, guest_id: str, lines: Sequence[CartLine], payment_method_token: str
    ) -> pb.Checkout:
        """The checkout once its saga ended (COMPLETED, or FAILED with its reason: an answer, not an
        error); RUNNING when the deadline came first."""
        request = pb.CheckoutCartRequest(
            cart_id=cart_id,
            guest_id=guest_id,
            lines=[line.to_pb() for line in lines],
            payment_method_token=payment_method_token,
        )
        response: pb.CheckoutCartResponse = await self._call(self.stub.CheckoutCart, request)
        return response.checkout

    async def get_checkout(self, checkout_id: str) -> pb.Checkout:
        response: pb.GetCheckoutResponse = await self._call(
            self.stub.GetCheckout, pb.GetCheckoutRequest(checkout_id=checkout_id)
        )
        return response.checkout
