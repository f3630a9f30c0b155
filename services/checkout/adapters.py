"""The saga's ports over the typed clients of inventory, payments and orders."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from decimal import Decimal

from novatrek.payments.v1 import payments_pb2

from clients.inventory import InventoryClient
from clients.orders import OrderLine, OrdersClient, order_id_for
from clients.payments import PaymentsClient
from services.chassis.errors import NotFound
from services.checkout.domain import AuthorizationNotUsable, CartLine, PaymentDeclined


class InventoryOverGrpc:
    def __init__(self, client: InventoryClient) -> None:
        self.client = client

    async def reserve(self, checkout_id: uuid.UUID, lines: Sequence[CartLine], hold_s: int) -> None:
        await self.client.reserve(str(checkout_id), [(line.sku, line.quantity) for line in lines], hold_s)

    async def release(self, checkout_id: uuid.UUID) -> None:
        await self.client.release(str(checkout_id))


class PaymentsOverGrpc:
    def __init__(self, client: PaymentsClient) -> None:
        self.client = client

    async def authorize(
        self, checkout_id: uuid.UUID, guest_id: uuid.UUID, amount: Decimal, currency: str, token: str
    ) -> str:
        auth = await self.client.authorize(str(checkout_id), str(guest_id), amount, currency, token)
        if auth.status == payments_pb2.AUTHORIZATION_STATUS_DECLINED:
            raise PaymentDeclined(auth.decline_reason or "declined")
        if auth.status != payments_pb2.AUTHORIZATION_STATUS_AUTHORIZED:  # a replayed hold since voided, refunded…
            raise AuthorizationNotUsable(auth.authorization_id, payments_pb2.AuthorizationStatus.Name(auth.status))
        return auth.authorization_id

    async def void(self, checkout_id: uuid.UUID, reason: str) -> None:
        await self.client.void(checkout_id=str(checkout_id), reason=reason)


class OrdersOverGrpc:
    def __init__(self, client: OrdersClient) -> None:
        self.client = client

    async def create(
        self, checkout_id: uuid.UUID, guest_id: uuid.UUID, lines: Sequence[CartLine], authorization_id: str
    ) -> uuid.UUID:
        items = [OrderLine(ln.sku, ln.name, ln.unit_price, ln.currency, ln.quantity) for ln in lines]
        order = await self.client.create_order(str(checkout_id), str(guest_id), items, authorization_id)
        return uuid.UUID(order.order_id)

    async def cancel(self, checkout_id: uuid.UUID, reason: str) -> None:
        # The order id derives from the checkout's: an order whose answer was lost is found too;
        # one never created is nothing to undo.
        with contextlib.suppress(NotFound):
            await self.client.cancel_order(str(order_id_for(checkout_id)), reason, changed_by="checkout")
