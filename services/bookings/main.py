"""bookings: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from novatrek.bookings.v1 import bookings_pb2, bookings_pb2_grpc

from clients.businesses import BusinessesClient
from clients.catalog import CatalogClient
from clients.passes import PassClient
from clients.payments import PaymentsClient
from clients.wallet import WalletClient
from services.bookings.adapters import CardsOverGrpc, CatalogOverGrpc, CustomersOverGrpc, PassesOverGrpc, WalletOverGrpc
from services.bookings.billing import bill_due
from services.bookings.booking_saga import SagaPorts, booking_sagas
from services.bookings.config import BookingSettings
from services.bookings.consumers import subscriptions
from services.bookings.db import metadata, sagas
from services.bookings.handlers import Deps
from services.bookings.loops import Loop
from services.bookings.ports import Cards, Catalog, Customers, Passes, Wallet
from services.bookings.refunds import refund_pending
from services.bookings.repositories import BookingUnitOfWork
from services.bookings.servicer import BookingServicer, SessionViewServicer
from services.chassis.outcomes import Outcomes
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaRunner
from services.chassis.saga_store import PgSagaStore
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring

NAME = "bookings"
BATCH = 50


@dataclass
class Ports:
    customers: Customers
    catalog: Catalog
    passes: Passes
    wallet: Wallet
    cards: Cards


def over_grpc(s: BookingSettings) -> tuple[Ports, list]:
    """The ports over the peers' typed clients, and the clients (closed at shutdown)."""
    timeout = s.outbound_timeout_s
    businesses, catalog = (
        BusinessesClient(s.businesses_addr, timeout),
        CatalogClient(s.catalog_addr, timeout),
    )
    passes, wallet = PassClient(s.passes_addr, timeout), WalletClient(s.wallet_addr, timeout)
    payments = PaymentsClient(s.payments_addr, s.payments_timeout_s)
    ports = Ports(
        CustomersOverGrpc(businesses),
        CatalogOverGrpc(catalog),
        PassesOverGrpc(passes),
        WalletOverGrpc(wallet),
        CardsOverGrpc(payments),
    )
    return ports, [businesses, catalog, passes, wallet, payments]


def build(
    settings: BookingSettings | None = None, clock: Callable[[], datetime] = utcnow, ports: Ports | None = None
) -> ServiceRuntime:
    """`clock`: the time bookings, claims and saga leases go by; `ports`: the peers (fakes in a test)."""
    s = settings or BookingSettings()
    wiring = Wiring(NAME, s, BookingUnitOfWork, metadata, publishes_events=True)
    clients: list = []
    if ports is None:
        ports, clients = over_grpc(s)
    outcomes: Outcomes = Outcomes(lambda booking: booking.booking_id)
    saga_ports = SagaPorts(
        wiring.uow, ports.catalog, ports.passes, ports.wallet, ports.cards, outcomes.settle, clock, s.saga_lease_s / 2
    )
    types = {saga.name: saga for saga in booking_sagas(saga_ports)}
    runner = SagaRunner(
        PgSagaStore(wiring.engine, sagas), types, s.saga_lease_s, s.saga_recovery_interval_s, clock=clock, service=NAME
    )
    deps = Deps(
        wiring.uow, runner, ports.customers, ports.catalog, ports.passes, ports.wallet, ports.cards, outcomes, clock,
        s.booking_timeout_s, s.cancellation_cutoff_s, s.claim_s,
    )  # fmt: skip
    billing = Loop("billing", lambda: bill_due(deps, BATCH), s.billing_interval_s, BATCH)
    refunds = Loop("refunds", lambda: refund_pending(deps, BATCH), s.refund_interval_s, BATCH)
    wiring.consume(subscriptions(billing.wake))
    wiring.background += [runner.run_recovery, billing.run, refunds.run]
    servicer, views = BookingServicer(deps, wiring.tokens, s.booking_timeout_s), SessionViewServicer(deps)

    def register(server) -> None:
        bookings_pb2_grpc.add_BookingServiceServicer_to_server(servicer, server)
        bookings_pb2_grpc.add_SessionViewServiceServicer_to_server(views, server)

    services = bookings_pb2.DESCRIPTOR.services_by_name
    runtime = wiring.runtime(services["BookingService"], register, services["SessionViewService"])
    runtime.closers += [c.close for c in clients]
    return runtime
