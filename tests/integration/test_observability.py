"""One partner booking, or one order completed, is one connected trace across the services; /metrics serves
the figures."""

import urllib.request
import uuid
from decimal import Decimal

from novatrek.reservations.v1 import reservations_pb2 as res
from novatrek.reservations.v1 import reservations_pb2_grpc
from opentelemetry import trace

from clients.inventory import InventoryClient
from clients.orders import OrderLine, OrdersClient
from services.chassis.telemetry import inject
from services.cli.embedded import free_port
from services.inventory.config import InventorySettings
from services.inventory.main import build as build_inventory
from services.orders.config import OrderSettings
from services.orders.main import build as build_orders
from services.reservations.config import ReservationSettings
from services.reservations.main import build as build_reservations
from tests.helpers import eventually
from tests.integration.booking import new_departure, new_guest
from tests.integration.conftest import fresh_database, serve
from tests.integration.gateway_fixtures import live_gateway, partner_gateway_settings
from tests.integration.partner_fixtures import as_key, booking_request, register


async def test_a_partner_booking_is_one_connected_trace(exported_spans, partners_stub, guests_stub, catalog_stub):
    _, key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    with trace.get_tracer("test").start_as_current_span("partner books a trip") as root:
        metadata = as_key(key, uuid.uuid4().hex) + tuple(inject().items())
        await partners_stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day), metadata=metadata)
    trace_id = root.get_span_context().trace_id
    spans = [s for s in exported_spans.get_finished_spans() if s.context.trace_id == trace_id]
    servers = {(s.instrumentation_scope.name, s.name) for s in spans if s.kind == trace.SpanKind.SERVER}
    assert {
        ("novatrek.partner-integrations", "novatrek.partners.v1.PartnerService/CreatePartnerBooking"),
        ("novatrek.guest-profiles", "novatrek.guests.v1.GuestService/ValidateGuest"),
        ("novatrek.trip-catalog", "novatrek.catalog.v1.CatalogService/HoldSeats"),
        ("novatrek.reservations", "novatrek.reservations.v1.ReservationService/CreateReservation"),
        ("novatrek.reservations", "novatrek.reservations.v1.ReservationService/TransitionReservationStatus"),
        ("novatrek.payments", "novatrek.payments.v1.PaymentService/ProcessCommission"),
    } <= servers
    ids = {s.context.span_id for s in spans}
    orphans = [s.name for s in spans if s is not root and s.parent is not None and s.parent.span_id not in ids]
    assert not orphans, f"spans whose parent is outside the trace: {orphans}"


async def test_metrics_are_served(make_database, guests_service, catalog_service, nats_url):
    port = free_port()
    running = await serve(
        build_reservations,
        ReservationSettings,
        await fresh_database(make_database, "reservations", "reservations_metrics"),
        nats_url=nats_url,
        guests_addr=guests_service.address,
        catalog_addr=catalog_service.address,
        metrics_port=port,
        metrics_interval_s=0.2,
    )
    try:
        stub = reservations_pb2_grpc.ReservationServiceStub(running.channel)
        await stub.SearchReservations(res.SearchReservationsRequest())

        async def scraped():
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            # consumer lag is sampled last, once the durable consumer exists: wait for its own (the registry
            # is the process's: another service's consumers may be in it already)
            lag = 'novatrek_consumer_pending_messages{durable="reservations-payment-processed"'
            return body if "novatrek_outbox_lag_seconds" in body and lag in body else None

        body = await eventually(scraped)
        assert (
            'novatrek_rpc_server_requests_total{code="OK",method="/novatrek.reservations.v1.ReservationService/SearchReservations",service="reservations"}'
            in body
        )
        assert 'novatrek_db_pool_connections{service="reservations",state="open"}' in body
        assert 'novatrek_outbox_pending_events{service="reservations"}' in body
        assert (
            'novatrek_consumer_pending_messages{durable="reservations-payment-processed",service="reservations"}'
            in body
        )
    finally:
        await running.stop()


async def test_a_rest_booking_through_the_gateway_joins_the_callers_trace(
    exported_spans, partners_stub, partners_service, guests_stub, catalog_stub
):
    _, key = await register(partners_stub)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    async with live_gateway(partner_gateway_settings(partners_service.address)) as live:
        with trace.get_tracer("test").start_as_current_span("partner app") as root:
            body = {
                "guestId": guest_id,
                "tripId": trip_id,
                "tripDate": {"year": day.year, "month": day.month, "day": day.day},
                "partySize": 1,
            }
            answer = await live.public.post(
                "/v1/bookings",
                json=body,
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": uuid.uuid4().hex, **inject()},
            )
        assert answer.status_code == 200, answer.text
    spans = [s for s in exported_spans.get_finished_spans() if s.context.trace_id == root.get_span_context().trace_id]
    gateway = next(s for s in spans if s.instrumentation_scope.name == "novatrek.gateway")
    partner = next(s for s in spans if s.name == "novatrek.partners.v1.PartnerService/CreatePartnerBooking")
    assert (
        gateway.parent.span_id == root.get_span_context().span_id and partner.parent.span_id == gateway.context.span_id
    )


async def place_and_complete(orders: OrdersClient, inventory: InventoryClient, quantity: int = 2) -> str:
    """Stock reserved for a checkout, its order placed and completed (inventory then commits the stock
    on OrderCompleted); returns the SKU."""
    sku, checkout_id = f"DRYBAG-{uuid.uuid4().hex[:8].upper()}", str(uuid.uuid4())
    await inventory.set_stock_level(sku, 10, name="Dry bag 20 L")
    await inventory.reserve(checkout_id, [(sku, quantity)])
    lines = [OrderLine(sku, "Dry bag 20 L", Decimal("24.90"), "USD", quantity)]
    order = await orders.create_order(checkout_id, str(uuid.uuid4()), lines, "auth_obs")
    await orders.complete_order(order.order_id)
    return sku


async def committed(inventory: InventoryClient, sku: str, on_hand: int) -> None:
    async def done():
        return (await inventory.stock(sku)).on_hand == on_hand

    await eventually(done)


async def test_an_order_completed_reaches_inventory_in_the_same_trace(
    exported_spans, orders_service, inventory_service
):
    orders, inventory = OrdersClient(orders_service.address), InventoryClient(inventory_service.address)
    try:
        with trace.get_tracer("test").start_as_current_span("checkout places an order") as root:
            sku = await place_and_complete(orders, inventory)
        await committed(inventory, sku, 8)
    finally:
        await orders.channel.close()
        await inventory.channel.close()
    trace_id = root.get_span_context().trace_id

    async def consumed():
        spans = [s for s in exported_spans.get_finished_spans() if s.context.trace_id == trace_id]
        return spans if any(s.kind == trace.SpanKind.CONSUMER for s in spans) else None

    spans = await eventually(consumed)
    named = {(s.instrumentation_scope.name, s.kind, s.name) for s in spans}
    assert {
        ("novatrek.inventory", trace.SpanKind.SERVER, "novatrek.inventory.v1.InventoryService/ReserveInventory"),
        ("novatrek.orders", trace.SpanKind.SERVER, "novatrek.orders.v1.OrderService/CreateOrder"),
        ("novatrek.orders", trace.SpanKind.SERVER, "novatrek.orders.v1.OrderService/CompleteOrder"),
        ("novatrek.inventory", trace.SpanKind.CONSUMER, "novatrek.ordering.order.completed process"),
    } <= named, named
    ids = {s.context.span_id for s in spans}
    orphans = [s.name for s in spans if s is not root and s.parent is not None and s.parent.span_id not in ids]
    assert not orphans, f"spans whose parent is outside the trace: {orphans}"


async def scrape(port: int, *wanted: str) -> str:
    async def body():
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return text if all(w in text for w in wanted) else None

    return await eventually(body)


async def test_ordering_metrics_are_served(make_database, nats_url):
    ports = {"orders": free_port(), "inventory": free_port()}
    own = {"nats_url": nats_url, "metrics_interval_s": 0.2, "consumer_durable_prefix": f"obs-{uuid.uuid4().hex[:8]}-"}
    order_db = await fresh_database(make_database, "orders", "orders_metrics")
    stock_db = await fresh_database(make_database, "inventory", "inventory_metrics")
    running_orders = await serve(build_orders, OrderSettings, order_db, metrics_port=ports["orders"], **own)
    running_stock = await serve(build_inventory, InventorySettings, stock_db, metrics_port=ports["inventory"], **own)
    orders, inventory = OrdersClient(running_orders.address), InventoryClient(running_stock.address)
    try:
        await committed(inventory, await place_and_complete(orders, inventory), 8)
        rpc = 'novatrek_rpc_server_requests_total{code="OK",method="/novatrek.%s",service="%s"}'
        await scrape(
            ports["orders"],
            rpc % ("orders.v1.OrderService/CreateOrder", "orders"),
            rpc % ("orders.v1.OrderService/CompleteOrder", "orders"),
            'novatrek_outbox_pending_events{service="orders"}',
            'novatrek_db_pool_connections{service="orders",state="open"}',
        )
        await scrape(
            ports["inventory"],
            rpc % ("inventory.v1.InventoryService/ReserveInventory", "inventory"),
            'novatrek_events_handled_total{durable="inventory-order-completed",outcome="applied",service="inventory"}',
            'novatrek_consumer_pending_messages{durable="inventory-order-cancelled",service="inventory"}',
        )
    finally:
        await orders.channel.close()
        await inventory.channel.close()
        await running_orders.stop()
        await running_stock.stop()
