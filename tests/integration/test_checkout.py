"""The Checkout Saga through gRPC with the real inventory, payments and orders servers on PostgreSQL
and NATS: a placed order, and every failing step leaving no stock held, no authorization open and
no order; idempotency per cart; the answers' shape."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nats
from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc
from novatrek.checkout.v1 import events_pb2 as checkout_events
from novatrek.payments.v1 import payments_pb2

from clients.orders import OrdersClient
from services.checkout.domain import checkout_id_for
from services.cli.embedded import free_port
from services.orders.config import OrderSettings
from services.orders.main import build as build_orders
from tests.helpers import eventually, fails
from tests.integration.conftest import fresh_database, serve
from tests.integration.ordering_fixtures import (  # noqa: F401  (fixtures)
    AUTHORIZED,
    PRICE,
    check_out,
    checkout,
    checkout_stub,
    ordering,
    serve_checkout,
)
from tests.integration.ordering_fixtures import cart_request as cart

RUNNING, COMPLETED, FAILED = pb.CHECKOUT_STATE_RUNNING, pb.CHECKOUT_STATE_COMPLETED, pb.CHECKOUT_STATE_FAILED
DECLINED = payments_pb2.AUTHORIZATION_STATUS_DECLINED


async def events_of(nats_url: str, subject: str):
    """A core subscription to `subject` (JetStream publishes reach it too) and its received messages."""
    nc = await nats.connect(nats_url)
    received: list = []

    async def on(msg):
        received.append(msg)

    await nc.subscribe(subject, cb=on)
    return nc, received


async def assert_nothing_left(ordering, sku: str, checkout_id: str) -> None:
    assert await ordering.reserved(sku) == 0
    assert ordering.hold(checkout_id) in (None, "voided", "declined")
    assert await ordering.order_status(checkout_id) is None


async def test_a_checkout_reserves_the_stock_authorizes_the_payment_and_places_the_order(
    ordering, checkout_stub, nats_url
):
    sku = await ordering.sku(5)
    nc, completed = await events_of(nats_url, "novatrek.ordering.checkout.completed")
    request = cart(sku, quantity=2)
    done = await check_out(checkout_stub, request)
    assert (done.state, done.failure_reason, done.cart_id) == (COMPLETED, "", request.cart_id)
    assert (done.total.units, done.total.nanos, done.total.currency_code) == (39, 800_000_000, "EUR")
    assert await ordering.reserved(sku) == 2
    assert await ordering.authorization_status(done.authorization_id) == AUTHORIZED
    assert await ordering.order_status(done.checkout_id) == "ORDER_STATUS_CONFIRMED"
    assert (await checkout_stub.GetCheckout(pb.GetCheckoutRequest(checkout_id=done.checkout_id))).checkout == done

    def announced():
        return [m for m in completed if checkout_events.CheckoutCompleted.FromString(m.data).cart_id == request.cart_id]

    (event,) = await eventually(announced)
    assert checkout_events.CheckoutCompleted.FromString(event.data).order_id == done.order_id
    await nc.close()


async def test_out_of_stock_fails_the_checkout_and_takes_nothing(ordering, checkout_stub):
    sku = await ordering.sku(1)
    failed = await check_out(checkout_stub, cart(sku, quantity=2))
    assert (failed.state, failed.failure_reason, failed.order_id) == (FAILED, "OUT_OF_STOCK", "")
    await assert_nothing_left(ordering, sku, failed.checkout_id)
    assert ordering.hold(failed.checkout_id) is None  # payment never asked


async def test_a_declined_payment_releases_the_stock(ordering, checkout_stub, nats_url):
    sku = await ordering.sku(3)
    nc, failures = await events_of(nats_url, "novatrek.ordering.checkout.failed")
    failed = await check_out(checkout_stub, cart(sku, token="decline_expired_card"))
    assert (failed.state, failed.failure_reason) == (FAILED, "PAYMENT_DECLINED")
    assert "expired_card" in failed.failure_message
    await assert_nothing_left(ordering, sku, failed.checkout_id)
    assert ordering.hold(failed.checkout_id) == "declined"

    def announced():
        found = [checkout_events.CheckoutFailed.FromString(m.data) for m in failures]
        return [e for e in found if e.checkout_id == failed.checkout_id]

    (event,) = await eventually(announced)
    assert event.failure_reason == "PAYMENT_DECLINED"
    await nc.close()


async def test_a_lost_processor_answer_is_voided_at_the_processor_and_the_stock_released(ordering, checkout_stub):
    sku = await ordering.sku(3)
    failed = await check_out(checkout_stub, cart(sku, token="timeout_visa"))
    assert (failed.state, failed.failure_reason) == (FAILED, "DEPENDENCY_UNAVAILABLE")
    assert "payments" in failed.failure_message
    await assert_nothing_left(ordering, sku, failed.checkout_id)
    assert ordering.hold(failed.checkout_id) == "voided"  # authorized at the processor, then voided


async def test_a_replayed_authorization_that_was_voided_places_no_order(ordering, checkout_stub):
    sku = await ordering.sku(3)
    request = cart(sku)
    checkout_id = str(checkout_id_for(uuid.UUID(request.cart_id)))
    earlier = await ordering.payments.authorize(
        checkout_id, request.guest_id, PRICE, "EUR", request.payment_method_token
    )
    await ordering.payments.void(authorization_id=earlier.authorization_id, reason="an earlier attempt")
    failed = await check_out(checkout_stub, request)  # payments replays the stored, voided authorization
    assert (failed.state, failed.failure_reason, failed.order_id) == (FAILED, "AUTHORIZATION_NOT_USABLE", "")
    await assert_nothing_left(ordering, sku, failed.checkout_id)


async def test_orders_down_voids_the_authorization_releases_the_stock_and_fails_once_orders_says_no_order(
    make_database, nats_url, ordering
):
    port, database = free_port(), await fresh_database(make_database, "orders", "ordering_orders_down")
    await (await serve(build_orders, OrderSettings, database, nats_url=nats_url, port=port)).stop()
    recovering = {"saga_lease_s": 2.0, "saga_recovery_interval_s": 0.2}
    running = await serve_checkout(
        make_database, nats_url, ordering, "checkout_orders_down", orders_addr=f"127.0.0.1:{port}", **recovering
    )
    stub, orders = checkout_pb2_grpc.CheckoutServiceStub(running.channel), None
    try:
        sku = await ordering.sku(3)
        failing = await check_out(stub, cart(sku))
        # Compensated but for the order: orders cannot say yet that it has none, so it stays running.
        assert (failing.state, failing.failure_reason) == (RUNNING, "DEPENDENCY_UNAVAILABLE")
        assert "orders" in failing.failure_message
        assert await ordering.reserved(sku) == 0 and ordering.hold(failing.checkout_id) == "voided"
        orders = await serve(build_orders, OrderSettings, database, nats_url=nats_url, port=port)
        failed = await eventually(lambda: ended(stub, failing.checkout_id))
        assert (failed.failure_reason, failed.failure_message) == (failing.failure_reason, failing.failure_message)
        client = OrdersClient(orders.address, 5.0)
        assert await ordering.order_status(failing.checkout_id, client) is None
        await client.close()
    finally:
        await running.stop()
        if orders is not None:
            await orders.stop()


async def ended(stub, checkout_id: str) -> pb.Checkout | None:
    found = (await stub.GetCheckout(pb.GetCheckoutRequest(checkout_id=checkout_id))).checkout
    return found if found.state != RUNNING else None


async def test_a_cart_checked_out_again_is_answered_with_its_first_checkout(ordering, checkout_stub):
    sku = await ordering.sku(5)
    request = cart(sku)
    first = await check_out(checkout_stub, request)
    assert await check_out(checkout_stub, request) == first
    assert await ordering.reserved(sku) == 1
    other = pb.CheckoutCartRequest()
    other.CopyFrom(request)
    other.lines[0].quantity = 2
    refused = await fails(checkout_stub.CheckoutCart(other, timeout=10))
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    assert "cart_id" in refused.violations


async def test_a_failed_checkout_is_an_answer_for_its_cart_too(ordering, checkout_stub):
    sku = await ordering.sku(0)
    request = cart(sku)
    first = await check_out(checkout_stub, request)
    await ordering.inventory.set_stock_level(sku, 5)
    assert await check_out(checkout_stub, request) == first  # the cart's checkout failed: a new cart retries


async def test_the_same_cart_checked_out_twenty_times_at_once_places_one_order(ordering, checkout_stub):
    sku = await ordering.sku(10)
    request = cart(sku)
    answers = await asyncio.gather(*(check_out(checkout_stub, request) for _ in range(20)))
    assert {a.SerializeToString() for a in answers} == {answers[0].SerializeToString()}
    assert answers[0].state == COMPLETED and await ordering.reserved(sku) == 1
    assert ordering.processor.calls.count(("authorize", uuid.UUID(answers[0].checkout_id))) == 1


async def test_two_hundred_checkouts_of_twenty_five_in_stock_sell_exactly_twenty_five(ordering, checkout_stub):
    sku = await ordering.sku(25)
    answers = await asyncio.gather(*(check_out(checkout_stub, cart(sku), deadline_s=100) for _ in range(200)))
    completed = [a for a in answers if a.state == COMPLETED]
    assert len(completed) == 25 and await ordering.reserved(sku) == 25
    assert {a.failure_reason for a in answers if a.state != COMPLETED} == {"OUT_OF_STOCK"}
    statuses = await asyncio.gather(*(ordering.order_status(a.checkout_id) for a in answers))
    assert statuses.count("ORDER_STATUS_CONFIRMED") == 25 and statuses.count(None) == 175


async def test_a_bad_cart_names_every_bad_field(checkout_stub):
    line = pb.CartLine(sku="A", name="bad\x00name", quantity=0)
    line.unit_price.currency_code, line.unit_price.units, line.unit_price.nanos = "EUR", 1, 5
    other = pb.CartLine(sku="A", name="ok", quantity=1001)
    other.unit_price.currency_code, other.unit_price.units = "USD", 3
    request = pb.CheckoutCartRequest(cart_id="nope", lines=[line, other])
    refused = await fails(checkout_stub.CheckoutCart(request, timeout=10))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(refused.violations) >= {
        "cart_id",
        "guest_id",
        "payment_method_token",
        "lines[0].name",
        "lines[0].quantity",
        "lines[0].unit_price.nanos",
        "lines[1].sku",
        "lines[1].quantity",
        "lines[1].unit_price.currency_code",
    }
    empty = await fails(checkout_stub.CheckoutCart(cart("X", lines=[]), timeout=10))
    assert "lines" in empty.violations


async def test_an_unknown_checkout_is_not_found(checkout_stub):
    missing = await fails(checkout_stub.GetCheckout(pb.GetCheckoutRequest(checkout_id=str(uuid.uuid4()))))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "CHECKOUT_NOT_FOUND")
