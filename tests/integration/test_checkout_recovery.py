"""Checkouts that outlive their process and their messages: a checkout process killed mid-saga is
compensated by the next one's recovery, and a checked-out cart delivered twice makes one order."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import uuid
from datetime import timedelta

import grpc
import nats
import nats.js.errors
import pytest
import sqlalchemy as sa
from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc
from novatrek.checkout.v1.events_pb2 import CheckoutFailed
from novatrek.shopping.v1 import events_pb2 as shopping_events
from sqlalchemy.ext.asyncio import create_async_engine

from clients.checkout import CartLine
from services.chassis.broker import Broker
from services.chassis.protoconv import utcnow
from services.checkout.config import CheckoutSettings
from services.checkout.domain import checkout_id_for
from services.checkout.main import build as build_checkout
from services.cli.children import Child, launch
from services.cli.embedded import free_port
from services.cli.registry import REGISTRY
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.payments.processor import FakeProcessor
from tests.helpers import eventually
from tests.integration.conftest import FAST, fresh_database, serve
from tests.integration.ordering_fixtures import PRICE, cart_request, checkout, checkout_stub, ordering  # noqa: F401

FAILED, COMPLETED = pb.CHECKOUT_STATE_FAILED, pb.CHECKOUT_STATE_COMPLETED


async def state_of(stub, checkout_id: str) -> pb.Checkout:
    return (await stub.GetCheckout(pb.GetCheckoutRequest(checkout_id=checkout_id), timeout=5)).checkout


@pytest.fixture(scope="module")
async def slow_payments(make_database, nats_url):
    """Payments whose processor sits on a `timeout…` authorization for 8 s: a gate inside the saga."""
    processor = FakeProcessor(delay_s=8)
    running = await serve(
        functools.partial(build_payments, processor=processor),
        PaymentSettings,
        await fresh_database(make_database, "payments", "ordering_slow_payments"),
        nats_url=nats_url,
        processor_deadline_s=20.0,
    )
    yield running, processor
    await running.stop()


def checkout_process(database: str, nats_url: str, peers: dict[str, str], logs) -> Child:
    spec, port = REGISTRY["checkout"], free_port()
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "database_url": database,
        "payments_timeout_s": 30,
        "db_pool_min": 2,
        "consumer_durable_prefix": FAST["consumer_durable_prefix"],
        "consumer_inactive_threshold_s": 300,
        **peers,
    }
    env = {**os.environ, "NOVATREK_NATS_URL": nats_url, **{spec.env(k): str(v) for k, v in settings.items()}}
    argv = [sys.executable, "-m", "services.cli.main", "serve", "checkout"]
    return Child(spec, f"127.0.0.1:{port}", logs / "checkout.log", launch(argv, env, logs / "checkout.log"))


async def test_a_checkout_killed_mid_saga_is_compensated_by_the_next_process(
    make_database, nats_url, ordering, slow_payments, tmp_path
):
    payments, processor = slow_payments
    database = await fresh_database(make_database, "checkout", "checkout_crash")
    child = checkout_process(database, nats_url, {**ordering.peers(), "payments_addr": payments.address}, tmp_path)
    try:
        await asyncio.to_thread(child.wait_serving, 60)
        sku = await ordering.sku(2)
        request = cart_request(sku, token="timeout_then_crash")
        checkout_id = checkout_id_for(uuid.UUID(request.cart_id))
        async with grpc.aio.insecure_channel(child.address) as channel:
            call = asyncio.ensure_future(checkout_pb2_grpc.CheckoutServiceStub(channel).CheckoutCart(request))
            await eventually(lambda: ("authorize", checkout_id) in processor.calls)  # stock held, authorizing
            child.process.kill()  # a crash: no compensation, no last write
            await asyncio.to_thread(child.process.wait)
            with contextlib.suppress(grpc.aio.AioRpcError):
                await call
    finally:
        if child.process.poll() is None:
            child.process.kill()
    assert await ordering.reserved(sku) == 1 and processor.holds[checkout_id] == "authorized"

    # The next process finds the saga's lease run out (its clock is past it) and compensates it.
    def later():
        return utcnow() + timedelta(minutes=5)

    settings = CheckoutSettings(
        database_url=database,
        nats_url=nats_url,
        **{**FAST, **ordering.peers(), "payments_addr": payments.address, "saga_recovery_interval_s": 0.2},
    )
    runtime = build_checkout(settings, clock=later)
    port = await runtime.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = checkout_pb2_grpc.CheckoutServiceStub(channel)

            async def ended():
                found = await state_of(stub, str(checkout_id))
                return found if found.state == FAILED else None

            failed = await eventually(ended)
    finally:
        await runtime.stop()
    assert failed.failure_reason == "CHECKOUT_INTERRUPTED"
    assert await ordering.reserved(sku) == 0 and processor.holds[checkout_id] == "voided"
    assert await ordering.order_status(str(checkout_id)) is None


async def publish_cart(nats_url: str, event: shopping_events.CartCheckedOut, event_id: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        headers = {"ce-id": event_id, "ce-type": "novatrek.shopping.cart.checked-out.v1", "Nats-Msg-Id": event_id}
        await nc.jetstream().publish("novatrek.shopping.cart.checked-out", event.SerializeToString(), headers=headers)
    finally:
        await nc.close()


async def test_a_checked_out_cart_delivered_twice_places_one_order(ordering, checkout, checkout_stub, nats_url):
    broker = Broker(nats_url, "checkout-test")
    await broker.connect()
    await broker.ensure_streams()
    await broker.close()
    sku = await ordering.sku(5)
    line = CartLine(sku, "Trail pack", PRICE, "EUR", 2).to_pb()
    line = shopping_events.CartLine(sku=line.sku, name=line.name, unit_price=line.unit_price, quantity=line.quantity)
    event = shopping_events.CartCheckedOut(
        cart_id=str(uuid.uuid4()), guest_id=str(uuid.uuid4()), lines=[line], payment_method_token="tok_visa_4242"
    )
    checkout_id = str(checkout_id_for(uuid.UUID(event.cart_id)))
    await publish_cart(nats_url, event, str(uuid.uuid4()))
    await publish_cart(nats_url, event, str(uuid.uuid4()))  # the same cart, a second message

    async def both_handled():
        prefix = checkout.runtime.settings.consumer_durable_prefix
        js, durable = checkout.runtime.broker.jetstream(), f"{prefix}checkout-cart-checked-out"
        try:
            info = await js.consumer_info("NOVATREK_SHOPPING", durable)
        except nats.js.errors.NotFoundError:  # the consumer subscribes as the service starts: not yet
            return False
        return info.delivered.consumer_seq >= 2 and info.num_pending == info.num_ack_pending == 0

    await eventually(both_handled, timeout_s=40)
    done = await state_of(checkout_stub, checkout_id)
    assert (done.state, done.cart_id, done.lines[0].quantity) == (COMPLETED, event.cart_id, 2)
    assert await ordering.order_status(checkout_id) == "ORDER_STATUS_CONFIRMED"
    assert await ordering.reserved(sku) == 2
    assert ordering.processor.calls.count(("authorize", uuid.UUID(checkout_id))) == 1


async def test_a_checkout_killed_before_its_saga_was_recorded_is_failed_after_its_lease(
    make_database, nats_url, ordering, tmp_path
):
    """The crash window between claiming the cart and recording the saga: the saga's insert is held
    on a lock, the process killed, its insert cancelled. No step ran; recovery fails the checkout
    CHECKOUT_INTERRUPTED (with its event), and the cart answers that from then on."""
    database = await fresh_database(make_database, "checkout", "checkout_unrecorded")
    child = checkout_process(database, nats_url, ordering.peers(), tmp_path)
    engine = create_async_engine(database)
    request = cart_request(await ordering.sku(2))
    checkout_id = str(checkout_id_for(uuid.UUID(request.cart_id)))
    try:
        await asyncio.to_thread(child.wait_serving, 60)
        async with engine.connect() as locker:
            await locker.execute(sa.text("LOCK TABLE checkout.saga_instances IN SHARE MODE"))
            async with grpc.aio.insecure_channel(child.address) as channel:
                call = asyncio.ensure_future(checkout_pb2_grpc.CheckoutServiceStub(channel).CheckoutCart(request))
                await eventually(lambda: _saga_insert_waiting(engine))  # the cart is claimed
                child.process.kill()
                await asyncio.to_thread(child.process.wait)
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await call
            async with engine.connect() as conn:  # a dead client's statement never commits
                await conn.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {_WAITING}"))
            await locker.rollback()
        mine = f"checkout_id = '{checkout_id}' AND state = 'running'"
        assert await _count(engine, f"SELECT count(*) FROM checkout.checkouts WHERE {mine}") == 1
        named = f"state -> 'cart' ->> 'cart_id' = '{request.cart_id}'"
        assert await _count(engine, f"SELECT count(*) FROM checkout.saga_instances WHERE {named}") == 0

        def later():
            return utcnow() + timedelta(minutes=5)

        settings = CheckoutSettings(
            database_url=database, nats_url=nats_url, **{**FAST, **ordering.peers(), "saga_recovery_interval_s": 0.2}
        )
        nc, seen = await nats.connect(nats_url), []

        async def heard(msg) -> None:
            if (event := CheckoutFailed.FromString(msg.data)).checkout_id == checkout_id:
                seen.append(event)

        await nc.subscribe("novatrek.ordering.checkout.failed", cb=heard)
        runtime = build_checkout(settings, clock=later)
        port = await runtime.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = checkout_pb2_grpc.CheckoutServiceStub(channel)

                async def ended():
                    found = await state_of(stub, checkout_id)
                    return found if found.state == FAILED else None

                failed = await eventually(ended)
                again = (await stub.CheckoutCart(request, timeout=10)).checkout
                event = await eventually(lambda: list(seen))
        finally:
            await runtime.stop()
            await nc.close()
        assert (failed.failure_reason, again.state, again.failure_reason) == (
            "CHECKOUT_INTERRUPTED",
            FAILED,
            "CHECKOUT_INTERRUPTED",
        )
        assert [(e.checkout_id, e.failure_reason) for e in event] == [(checkout_id, "CHECKOUT_INTERRUPTED")]
        assert await ordering.order_status(checkout_id) is None and ordering.hold(checkout_id) is None
    finally:
        if child.process.poll() is None:
            child.process.kill()
        await engine.dispose()


_WAITING = (
    "datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO checkout.saga_instances%'"
)


async def _saga_insert_waiting(engine) -> bool:
    return await _count(engine, f"SELECT count(*) FROM pg_stat_activity WHERE {_WAITING}") == 1


async def _count(engine, query: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(query))).scalar_one()
