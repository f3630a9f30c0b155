"""checkout: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from novatrek.checkout.v1 import checkout_pb2, checkout_pb2_grpc

from clients.inventory import InventoryClient
from clients.orders import OrdersClient
from clients.payments import PaymentsClient
from services.chassis.periodic import periodically
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaRunner
from services.chassis.saga_store import PgSagaStore
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.checkout.adapters import InventoryOverGrpc, OrdersOverGrpc, PaymentsOverGrpc
from services.checkout.checkout_saga import SagaPorts, checkout_saga
from services.checkout.config import CheckoutSettings
from services.checkout.consumers import subscriptions
from services.checkout.db import CheckoutUnitOfWork, metadata, sagas
from services.checkout.handlers import Deps, fail_unrecorded
from services.checkout.outcomes import Outcomes
from services.checkout.servicer import CheckoutServicer

NAME = "checkout"


def build(settings: CheckoutSettings | None = None, clock: Callable[[], datetime] = utcnow) -> ServiceRuntime:
    """`clock`: the time checkouts and saga leases go by (a test moves it past a dead process's lease)."""
    s = settings or CheckoutSettings()
    wiring = Wiring(NAME, s, CheckoutUnitOfWork, metadata, publishes_events=True)
    inventory = InventoryClient(s.inventory_addr, s.outbound_timeout_s)
    payments = PaymentsClient(s.payments_addr, s.payments_timeout_s)
    orders = OrdersClient(s.orders_addr, s.outbound_timeout_s)
    outcomes = Outcomes()
    ports = SagaPorts(
        wiring.uow,
        InventoryOverGrpc(inventory),
        PaymentsOverGrpc(payments),
        OrdersOverGrpc(orders),
        outcomes.settle,
        clock,
        s.stock_hold_s,
        s.saga_lease_s / 2,
    )
    saga = checkout_saga(ports)
    runner = SagaRunner(
        PgSagaStore(wiring.engine, sagas),
        {saga.name: saga},
        lease_s=s.saga_lease_s,
        recovery_interval_s=s.saga_recovery_interval_s,
        clock=clock,
        service=NAME,
    )
    deps = Deps(wiring.uow, runner, outcomes, clock, s.checkout_timeout_s)
    wiring.consume(subscriptions(deps))
    wiring.background.append(runner.run_recovery)
    wiring.background.append(
        periodically(lambda: fail_unrecorded(deps, s.saga_lease_s), s.saga_recovery_interval_s, "checkout-unrecorded")
    )
    servicer = CheckoutServicer(deps, s.checkout_timeout_s)
    runtime = wiring.runtime(
        checkout_pb2.DESCRIPTOR.services_by_name["CheckoutService"],
        lambda server: checkout_pb2_grpc.add_CheckoutServiceServicer_to_server(servicer, server),
    )
    runtime.closers += [c.close for c in (inventory, payments, orders)]
    return runtime
