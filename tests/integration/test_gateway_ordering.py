"""The ordering surfaces on the gateway's internal listener, in front of the real orders and inventory
(checkout is only an address here: the gateway starts, and answers 503 for it, while it is down)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from novatrek.inventory.v1 import inventory_pb2

from clients.orders import OrderLine, OrdersClient
from services.gateway.config import CHECKOUT, INVENTORY, ORDERS
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok
from tests.integration.test_gateway import dead_address  # noqa: F401 (fixture)

ORDERING_PATHS = {
    "/v1/checkouts",
    "/v1/checkouts/{checkoutId}",
    "/v1/orders",
    "/v1/orders/{orderId}",
    "/v1/stock/{sku}",
}


@pytest.fixture
async def live(orders_service, inventory_service, dead_address):
    upstreams = {ORDERS: orders_service.address, INVENTORY: inventory_service.address, CHECKOUT: dead_address}
    async with live_gateway(gateway_settings(upstreams)) as running:
        yield running


async def test_an_order_placed_over_grpc_is_read_over_rest(live, orders_service):
    client = OrdersClient(orders_service.address)
    try:
        lines = [OrderLine("DRYBAG-20L", "Dry bag 20 L", Decimal("24.90"), "EUR", 2)]
        order = await client.create_order(str(uuid.uuid4()), str(uuid.uuid4()), lines, "auth_demo")
    finally:
        await client.channel.close()
    body = ok(await live.internal.get(f"/v1/orders/{order.order_id}"))["order"]
    assert (body["orderId"], body["status"]) == (order.order_id, "ORDER_STATUS_CONFIRMED")
    assert body["total"] == {"currencyCode": "EUR", "units": "49", "nanos": 800000000}
    assert [(i["sku"], i["quantity"]) for i in body["items"]] == [("DRYBAG-20L", 2)]
    reason, _, _ = failure(await live.internal.get(f"/v1/orders/{uuid.uuid4()}"), 404)
    assert reason == "ORDER_NOT_FOUND"


async def test_stock_is_read_over_rest(live, inventory_stub):
    sku = f"GUIDE-{uuid.uuid4().hex[:8].upper()}"
    await inventory_stub.SetStockLevel(inventory_pb2.SetStockLevelRequest(sku=sku, name="Guidebook", on_hand=40))
    stock = ok(await live.internal.get(f"/v1/stock/{sku}"))["stock"]
    assert (stock["sku"], stock["onHand"], stock["available"]) == (sku, 40, 40)


async def test_checkout_down_is_503_and_not_ready(live):
    reason, _, _ = failure(await live.internal.get(f"/v1/checkouts/{uuid.uuid4()}"), 503)
    assert reason == "UPSTREAM_UNAVAILABLE"
    ready = await live.internal.get("/readyz")
    assert ready.status_code == 503 and ready.json()["upstreams"][CHECKOUT] == "UNAVAILABLE"


async def test_ordering_paths_are_documented_internally_only(live):
    internal = set(ok(await live.internal.get("/openapi.json"))["paths"])
    assert internal >= ORDERING_PATHS
    assert {"/v1/stock-reservations", "/v1/orders/{orderId}:cancel"} <= internal
    public = set(ok(await live.public.get("/openapi.json"))["paths"])
    assert not {p for p in public if p.startswith(("/v1/orders", "/v1/checkouts", "/v1/stock"))}
    assert failure(await live.public.get(f"/v1/orders/{uuid.uuid4()}"), 404)[0] == "ROUTE_NOT_FOUND"
