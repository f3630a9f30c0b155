"""Typed async client of orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from novatrek.orders.v1 import orders_pb2 as pb
from novatrek.orders.v1 import orders_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto
from services.orders import domain

SERVICE = pb.DESCRIPTOR.services_by_name["OrderService"].full_name
# CreateOrder is keyed by checkout_id; cancelling a cancelled or completing a completed order answers
# it unchanged: every method may be retried.
IDEMPOTENT = ["CreateOrder", "GetOrder", "CancelOrder", "CompleteOrder", "ListOrders"]


def order_id_for(checkout_id: UUID) -> UUID:
    """The id CreateOrder gives a checkout's order: a caller can cancel an order whose answer it lost."""
    return domain.order_id_for(checkout_id)


@dataclass(frozen=True)
class OrderLine:
    """One item as bought: its snapshot is stored with the order."""

    sku: str
    name: str
    unit_price: Decimal
    currency: str
    quantity: int

    def to_pb(self) -> pb.OrderItem:
        return pb.OrderItem(
            sku=self.sku,
            name=self.name,
            unit_price=money_to_proto(self.unit_price, self.currency),
            quantity=self.quantity,
        )


class OrdersClient(TypedClient):
    dependency, service, stub_class = "orders", SERVICE, orders_pb2_grpc.OrderServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def create_order(
        self, checkout_id: str, guest_id: str, lines: Sequence[OrderLine], authorization_id: str
    ) -> pb.Order:
        request = pb.CreateOrderRequest(
            checkout_id=checkout_id,
            guest_id=guest_id,
            items=[line.to_pb() for line in lines],
            authorization_id=authorization_id,
        )
        response: pb.CreateOrderResponse = await self._call(self.stub.CreateOrder, request)
        return response.order

    async def get_order(self, order_id: str) -> pb.Order:
        response: pb.GetOrderResponse = await self._call(self.stub.GetOrder, pb.GetOrderRequest(order_id=order_id))
        return response.order

    async def cancel_order(self, order_id: str, reason: str = "", changed_by: str = "") -> pb.Order:
        request = pb.CancelOrderRequest(order_id=order_id, reason=reason, changed_by=changed_by)
        response: pb.CancelOrderResponse = await self._call(self.stub.CancelOrder, request)
        return response.order

    async def complete_order(self, order_id: str, changed_by: str = "") -> pb.Order:
        request = pb.CompleteOrderRequest(order_id=order_id, changed_by=changed_by)
        response: pb.CompleteOrderResponse = await self._call(self.stub.CompleteOrder, request)
        return response.order

    async def orders_of(self, guest_id: str, page_size: int = 25, page_token: str = "") -> pb.ListOrdersResponse:
        """One page of a guest's orders, newest first."""
        request = pb.ListOrdersRequest(guest_id=guest_id, page_size=page_size, page_token=page_token)
        response: pb.ListOrdersResponse = await self._call(self.stub.ListOrders, request)
        return response
