"""Ordering under stress, through the real services (inventory, payments with the fake processor,
orders, checkout; PostgreSQL, NATS), checked against the ledger of their four databases.

1. A checkout storm on scarce stock: 200 carts of 1-3 units race for 25. Never oversold; every
   failed checkout left no reservation, no authorization, no order.
2. A dependency down under load: payments or orders (behind a fault proxy: connections refused,
   calls in flight cut) goes away for a few seconds while 8 callers check out in a loop. Checkouts
   end within their deadline, failed (DEPENDENCY_UNAVAILABLE) or, while a compensation waits for
   orders, running with that reason; once it is back, recovery finishes them and nothing is left."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import time
from collections import Counter

import pytest
from novatrek.checkout.v1 import checkout_pb2 as pb
from novatrek.checkout.v1 import checkout_pb2_grpc

from services.checkout.config import CheckoutSettings
from services.checkout.main import build as build_checkout
from services.inventory.config import InventorySettings
from services.inventory.main import build as build_inventory
from services.orders.config import OrderSettings
from services.orders.main import build as build_orders
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.payments.processor import FakeProcessor
from tests.helpers import eventually
from tests.integration.conftest import serve
from tests.integration.ordering_fixtures import Ordering, cart_request
from tests.reliability.faults import FaultProxy, Load, summary
from tests.reliability.mesh import database
from tests.reliability.ordering_ledger import OrderingDatabases, ordering_problems, still_running

DEADLINE_S, OUTAGE_S = 8.0, 3.0
# Recovery within seconds; the lease stays long enough for a saga recorded under load to run.
FAST_CHECKOUT = {"saga_lease_s": 3.0, "saga_recovery_interval_s": 0.3, "outbound_timeout_s": 1.0}
STATES = {pb.CHECKOUT_STATE_COMPLETED: "COMPLETED", pb.CHECKOUT_STATE_FAILED: "FAILED"}


@pytest.fixture(scope="module")
async def ordering_mesh(make_database, nats_url):
    """The ordering services with payments and orders behind fault proxies that checkout calls through."""
    inventory = await serve(
        build_inventory, InventorySettings, await database(make_database, "inventory"), nats_url=nats_url
    )
    payments = await serve(
        functools.partial(build_payments, processor=FakeProcessor(delay_s=5)),
        PaymentSettings,
        await database(make_database, "payments"),
        nats_url=nats_url,
        processor_deadline_s=0.5,
    )
    orders = await serve(build_orders, OrderSettings, await database(make_database, "orders"), nats_url=nats_url)
    proxies = {"payments": await FaultProxy(payments.address).up(), "orders": await FaultProxy(orders.address).up()}
    checkout = await serve(
        build_checkout,
        CheckoutSettings,
        await database(make_database, "checkout"),
        nats_url=nats_url,
        inventory_addr=inventory.address,
        payments_addr=proxies["payments"].address,
        orders_addr=proxies["orders"].address,
        payments_timeout_s=2.0,
        **FAST_CHECKOUT,
    )
    mesh = Ordering(inventory, payments, orders, FakeProcessor())
    db = OrderingDatabases(inventory.database_url, payments.database_url, orders.database_url, checkout.database_url)
    yield mesh, checkout, proxies, db
    await mesh.close()
    for proxy in proxies.values():
        await proxy.down()
    for running in (checkout, orders, payments, inventory):
        await running.stop()


@pytest.mark.timeout(120)
async def test_a_checkout_storm_on_scarce_stock_never_oversells_and_leaves_nothing_behind(ordering_mesh):
    mesh, checkout, _, db = ordering_mesh
    sku, stock = await mesh.sku(25), 25
    stub = checkout_pb2_grpc.CheckoutServiceStub(checkout.channel)
    wanted = [random.randint(1, 3) for _ in range(200)]
    started = time.monotonic()
    answers = await asyncio.gather(*(stub.CheckoutCart(cart_request(sku, quantity), timeout=60) for quantity in wanted))
    elapsed = time.monotonic() - started
    ended = Counter(f"{STATES.get(a.checkout.state, 'RUNNING')} {a.checkout.failure_reason}".strip() for a in answers)
    sold = sum(q for q, a in zip(wanted, answers, strict=True) if a.checkout.state == pb.CHECKOUT_STATE_COMPLETED)
    figures = {
        "checkouts": len(wanted),
        "stock": stock,
        "sold": sold,
        "ended": dict(ended),
        "seconds": round(elapsed, 2),
    }
    print("RELIABILITY checkout-storm", json.dumps(figures))
    # The module's checkout calls its peers with a 1 s deadline (FAST_CHECKOUT, for the outage tests):
    # under the whole suite's load a reservation now and then outlives it. Such a checkout fails
    # DEPENDENCY_UNAVAILABLE with its stock given back (the ledger below holds that): a few are allowed.
    slow = ended.get("FAILED DEPENDENCY_UNAVAILABLE", 0)
    assert set(ended) <= {"COMPLETED", "FAILED OUT_OF_STOCK", "FAILED DEPENDENCY_UNAVAILABLE"} and slow <= 5, figures
    # Never oversold; a unit or two may be left for no 2-3 unit cart (more if a slow one gave its back late).
    assert stock - 2 - 3 * slow <= sold <= stock, figures
    assert (await mesh.inventory.stock(sku)).reserved == sold
    assert not {k: v for k, v in (await ordering_problems(db)).items() if v}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("dependency", ["payments", "orders"])
async def test_a_dependency_down_under_load_ends_every_checkout_and_leaves_nothing_behind(dependency, ordering_mesh):
    mesh, checkout, proxies, db = ordering_mesh
    sku = await mesh.sku(100_000)
    stub = checkout_pb2_grpc.CheckoutServiceStub(checkout.channel)

    async def check_out(timeout_s: float) -> str:
        done = (await stub.CheckoutCart(cart_request(sku), timeout=timeout_s)).checkout
        return f"{STATES.get(done.state, 'RUNNING')} {done.failure_reason}".strip()

    async with Load(check_out, deadline_s=DEADLINE_S, max_calls=3000) as load:
        await load.successes(load.workers, timeout_s=20)
        down_at = time.monotonic()
        await proxies[dependency].down()
        await asyncio.sleep(OUTAGE_S)
        up_at = time.monotonic()
        await proxies[dependency].up()
        await _first_completed_after(load, up_at)
        await asyncio.sleep(0.5)

    during = load.started_between(down_at, up_at)
    answered = Counter(o.made for o in during)
    figures = {
        "dependency": dependency,
        "outage": {**summary(during), "answers": dict(answered), "max_s": round(max(o.seconds for o in during), 2)},
        "all": summary(load.outcomes),
        "recovered_after_s": round(await _first_completed_after(load, up_at), 2),
    }
    print("RELIABILITY checkout-dependency-fault", json.dumps(figures))
    assert {o.code.name for o in load.outcomes} == {"OK"}, figures  # a failed checkout is an answer
    assert max(o.seconds for o in load.outcomes) < DEADLINE_S, figures
    assert not [o for o in during if o.made == "COMPLETED" and o.ended < up_at], (
        "a checkout completed without " + dependency
    )
    assert set(answered) <= {"COMPLETED", "FAILED DEPENDENCY_UNAVAILABLE", "RUNNING DEPENDENCY_UNAVAILABLE"}, figures
    with contextlib.suppress(AssertionError):  # compensations waiting for orders end by recovery
        await eventually(lambda: _settled(db), timeout_s=30)
    assert await still_running(db) == []
    assert not {k: v for k, v in (await ordering_problems(db)).items() if v}


async def _first_completed_after(load: Load, moment: float, timeout_s: float = 20.0) -> float:
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        ok = [o.ended for o in load.outcomes if o.started >= moment and o.made == "COMPLETED"]
        if ok:
            return min(ok) - moment
        await asyncio.sleep(0.1)
    raise AssertionError(f"no checkout completed within {timeout_s}s after the dependency came back")


async def _settled(db: OrderingDatabases) -> bool:
    return not await still_running(db) and not any((await ordering_problems(db)).values())
