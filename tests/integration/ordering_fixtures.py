"""The ordering mesh in-process on port 0 (real PostgreSQL and NATS): inventory, payments with a fake
processor the tests look at, orders, and checkout pointed at them; helpers that read each side."""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal

import pytest
from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc
from novatrek.orders.v1 import orders_pb2
from novatrek.payments.v1 import payments_pb2

from clients.checkout import CartLine
from clients.inventory import InventoryClient
from clients.orders import OrdersClient, order_id_for
from clients.payments import PaymentsClient
from services.chassis.errors import NotFound
from services.checkout.config import CheckoutSettings
from services.checkout.main import build as build_checkout
from services.inventory.config import InventorySettings
from services.inventory.main import build as build_inventory
from services.orders.config import OrderSettings
from services.orders.main import build as build_orders
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.payments.processor import FakeProcessor
from tests.integration.conftest import Running, fresh_database, serve

PRICE = Decimal("19.90")
# The fake processor gives a `timeout…` hold's answer long after payments' own processor deadline.
PROCESSOR_DEADLINE_S = 0.5


class Ordering:
    """The running services, typed clients of each, and what each side holds for a checkout."""

    def __init__(self, inventory: Running, payments: Running, orders: Running, processor: FakeProcessor) -> None:
        self.inventory_service, self.payments_service, self.orders_service = inventory, payments, orders
        self.processor = processor
        self.inventory = InventoryClient(inventory.address, 10.0)
        self.payments = PaymentsClient(payments.address, 10.0)
        self.orders = OrdersClient(orders.address, 10.0)

    def peers(self) -> dict[str, str]:
        return {
            "inventory_addr": self.inventory_service.address,
            "payments_addr": self.payments_service.address,
            "orders_addr": self.orders_service.address,
        }

    async def sku(self, on_hand: int) -> str:
        sku = f"SKU-{uuid.uuid4().hex[:10].upper()}"
        await self.inventory.set_stock_level(sku, on_hand, name=f"Trail pack {sku}")
        return sku

    async def reserved(self, sku: str) -> int:
        return (await self.inventory.stock(sku)).reserved

    def hold(self, checkout_id: str) -> str | None:
        """The processor's side of the checkout's authorization."""
        return self.processor.holds.get(uuid.UUID(checkout_id))

    async def order_status(self, checkout_id: str, orders: OrdersClient | None = None) -> str | None:
        """The checkout's order's status name, None when there is no order."""
        try:
            order = await (orders or self.orders).get_order(str(order_id_for(uuid.UUID(checkout_id))))
        except NotFound:
            return None
        return orders_pb2.OrderStatus.Name(order.status)

    async def authorization_status(self, authorization_id: str) -> int:
        return (await self.payments.get_authorization(authorization_id)).status

    async def close(self) -> None:
        for client in (self.inventory, self.payments, self.orders):
            await client.close()


AUTHORIZED = payments_pb2.AUTHORIZATION_STATUS_AUTHORIZED


@pytest.fixture(scope="module")
async def ordering(make_database, nats_url):
    inventory = await serve(
        build_inventory,
        InventorySettings,
        await fresh_database(make_database, "inventory", "ordering_inventory"),
        nats_url=nats_url,
    )
    processor = FakeProcessor(delay_s=5)
    payments = await serve(
        functools.partial(build_payments, processor=processor),
        PaymentSettings,
        await fresh_database(make_database, "payments", "ordering_payments"),
        nats_url=nats_url,
        processor_deadline_s=PROCESSOR_DEADLINE_S,
    )
    orders = await serve(
        build_orders, OrderSettings, await fresh_database(make_database, "orders", "ordering_orders"), nats_url=nats_url
    )
    mesh = Ordering(inventory, payments, orders, processor)
    yield mesh
    await mesh.close()
    for running in (orders, payments, inventory):
        await running.stop()


async def serve_checkout(make_database, nats_url, ordering: Ordering, name: str, **overrides) -> Running:
    database = await fresh_database(make_database, "checkout", name)
    return await serve(
        build_checkout,
        CheckoutSettings,
        database,
        nats_url=nats_url,
        **{**ordering.peers(), "payments_timeout_s": 5.0, **overrides},
    )


@pytest.fixture(scope="module")
async def checkout(make_database, nats_url, ordering):
    running = await serve_checkout(make_database, nats_url, ordering, "checkout")
    yield running
    await running.stop()


@pytest.fixture
def checkout_stub(checkout):
    return checkout_pb2_grpc.CheckoutServiceStub(checkout.channel)


def cart_request(sku: str, quantity: int = 1, token: str = "tok_visa_4242", **overrides) -> pb.CheckoutCartRequest:
    line = CartLine(sku, "Trail pack", PRICE, "EUR", quantity).to_pb()
    fields = {
        "cart_id": str(uuid.uuid4()),
        "guest_id": str(uuid.uuid4()),
        "lines": [line],
        "payment_method_token": token,
    }
    return pb.CheckoutCartRequest(**{**fields, **overrides})


async def check_out(stub, request: pb.CheckoutCartRequest, deadline_s: float = 30.0) -> pb.Checkout:
    return (await stub.CheckoutCart(request, timeout=deadline_s)).checkout
