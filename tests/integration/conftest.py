"""In-process services on port 0 (real PostgreSQL, real NATS), called through generated stubs."""

from __future__ import annotations

import uuid

import grpc
import pytest
from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.guests.v1 import guests_pb2_grpc
from novatrek.payments.v1 import payments_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2_grpc
from sqlalchemy.ext.asyncio import create_async_engine

from services.catalog.config import CatalogSettings
from services.catalog.main import build as build_catalog
from services.cli.databases import prepare
from services.guests.config import GuestSettings
from services.guests.main import build as build_guests
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.reservations.config import ReservationSettings
from services.reservations.main import build as build_reservations

# Durable consumers of their own: other test sessions may share the same NATS (CI, developers).
FAST = {
    "port": 0,
    "host": "127.0.0.1",
    "db_pool_min": 2,
    "db_pool_max": 10,
    "health_interval_s": 0.5,
    "consumer_durable_prefix": f"test-{uuid.uuid4().hex[:8]}-",
    "consumer_inactive_threshold_s": 300.0,
    # a new durable starts a little before now, not at days of other sessions' events
    "consumer_start_lookback_s": 120.0,
}


class Running:
    """A started service: its runtime, a channel to it, and its database URL."""

    def __init__(self, runtime, port: int, database_url: str) -> None:
        self.runtime, self.port, self.database_url = runtime, port, database_url
        self.address = f"127.0.0.1:{port}"
        self.channel = grpc.aio.insecure_channel(self.address)

    async def stop(self) -> None:
        await self.channel.close()
        await self.runtime.stop()


async def serve(build, settings_cls, database_url: str, **overrides) -> Running:
    """Each instance gets durable consumers of its own: two instances of one service in a session
    (a module's own payments beside the session's) would otherwise compete for the same events."""
    own = {"consumer_durable_prefix": f"test-{uuid.uuid4().hex[:8]}-"}
    runtime = build(settings_cls(database_url=database_url, **{**FAST, **own, **overrides}))
    return Running(runtime, await runtime.start(), database_url)


async def fresh_database(make_database, service: str, name: str) -> str:
    url = await make_database(name)
    await prepare(service, url)
    return url


@pytest.fixture(scope="session")
async def guests_service(make_database):
    running = await serve(build_guests, GuestSettings, await fresh_database(make_database, "guest-profiles", "guests"))
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def catalog_service(make_database, nats_url):
    running = await serve(
        build_catalog,
        CatalogSettings,
        await fresh_database(make_database, "trip-catalog", "catalog"),
        nats_url=nats_url,  # it publishes SessionFinished
    )
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def payments_service(make_database, nats_url):
    running = await serve(
        build_payments, PaymentSettings, await fresh_database(make_database, "payments", "payments"), nats_url=nats_url
    )
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def reservations_database(make_database):
    return await fresh_database(make_database, "reservations", "reservations")


@pytest.fixture(scope="session")
async def reservations_service(reservations_database, guests_service, catalog_service, nats_url):
    running = await serve(
        build_reservations,
        ReservationSettings,
        reservations_database,
        nats_url=nats_url,
        guests_addr=guests_service.address,
        catalog_addr=catalog_service.address,
    )
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def reservations_db(reservations_database):
    """Direct read access, for invariants checked in the database."""
    engine = create_async_engine(reservations_database)
    yield engine
    await engine.dispose()


@pytest.fixture
def guests_stub(guests_service):
    return guests_pb2_grpc.GuestServiceStub(guests_service.channel)


@pytest.fixture
def catalog_stub(catalog_service):
    return catalog_pb2_grpc.CatalogServiceStub(catalog_service.channel)


@pytest.fixture
def reservations_stub(reservations_service):
    return reservations_pb2_grpc.ReservationServiceStub(reservations_service.channel)


@pytest.fixture
def payments_stub(payments_service):
    return payments_pb2_grpc.PaymentServiceStub(payments_service.channel)


@pytest.fixture(scope="session")
async def partners_service(
    make_database, guests_service, catalog_service, reservations_service, payments_service, nats_url
):
    from services.partners.config import PartnerSettings
    from services.partners.main import build as build_partners
    from tests.integration.partner_fixtures import ADMIN_TOKEN

    database = await fresh_database(make_database, "partner-integrations", "partners")
    running = await serve(
        build_partners,
        PartnerSettings,
        database,
        nats_url=nats_url,
        admin_token=ADMIN_TOKEN,
        guests_addr=guests_service.address,
        catalog_addr=catalog_service.address,
        reservations_addr=reservations_service.address,
        payments_addr=payments_service.address,
    )
    yield running
    await running.stop()


@pytest.fixture
def partners_stub(partners_service):
    from novatrek.partners.v1 import partners_pb2_grpc

    return partners_pb2_grpc.PartnerServiceStub(partners_service.channel)


@pytest.fixture(scope="session")
async def notifications_service(make_database, partners_service, nats_url):
    from services.notifications.config import NotificationSettings
    from services.notifications.main import build as build_notifications
    from tests.integration.notification_fixtures import FAST_DELIVERY
    from tests.integration.partner_fixtures import ADMIN_TOKEN

    database = await fresh_database(make_database, "notifications", "notifications")
    running = await serve(
        build_notifications,
        NotificationSettings,
        database,
        nats_url=nats_url,
        partners_addr=partners_service.address,
        partners_token=ADMIN_TOKEN,
        **FAST_DELIVERY,
    )
    yield running
    await running.stop()


@pytest.fixture
def notifications_stub(notifications_service):
    from novatrek.notifications.v1 import notifications_pb2_grpc

    return notifications_pb2_grpc.NotificationServiceStub(notifications_service.channel)


@pytest.fixture(scope="session")
async def orders_service(make_database, nats_url):
    from services.orders.config import OrderSettings
    from services.orders.main import build as build_orders

    running = await serve(
        build_orders, OrderSettings, await fresh_database(make_database, "orders", "orders"), nats_url=nats_url
    )
    yield running
    await running.stop()


@pytest.fixture
def orders_stub(orders_service):
    from novatrek.orders.v1 import orders_pb2_grpc

    return orders_pb2_grpc.OrderServiceStub(orders_service.channel)


@pytest.fixture(scope="session")
async def inventory_service(make_database, nats_url):
    from services.inventory.config import InventorySettings
    from services.inventory.main import build as build_inventory

    database = await fresh_database(make_database, "inventory", "inventory_shared")
    # Durables of its own: test_inventory's instance must not compete with it for order events.
    prefix = f"test-{uuid.uuid4().hex[:8]}-"
    running = await serve(
        build_inventory, InventorySettings, database, nats_url=nats_url, consumer_durable_prefix=prefix
    )
    yield running
    await running.stop()


@pytest.fixture
def inventory_stub(inventory_service):
    from novatrek.inventory.v1 import inventory_pb2_grpc

    return inventory_pb2_grpc.InventoryServiceStub(inventory_service.channel)


@pytest.fixture(scope="session")
async def wallet_service(make_database, nats_url):
    from services.wallet.config import WalletSettings
    from services.wallet.main import build as build_wallet

    database = await fresh_database(make_database, "wallet", "wallet_shared")
    running = await serve(build_wallet, WalletSettings, database, nats_url=nats_url)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def businesses_service(make_database, guests_service):
    from services.businesses.config import BusinessSettings
    from services.businesses.main import build as build_businesses

    database = await fresh_database(make_database, "businesses", "businesses")
    running = await serve(build_businesses, BusinessSettings, database, guests_addr=guests_service.address)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def passes_service(make_database):
    from services.passes.config import PassSettings
    from services.passes.main import build as build_passes

    running = await serve(build_passes, PassSettings, await fresh_database(make_database, "passes", "passes"))
    yield running
    await running.stop()


@pytest.fixture(scope="session")
def network_clock():
    from tests.helpers import FakeClock

    return FakeClock()


@pytest.fixture(scope="session")
def network_loyalty():
    """An in-memory loyalty ledger behind partner-network's Loyalty port (until loyalty's server is here)."""
    from tests.unit.network_fakes import FakeLoyalty

    return FakeLoyalty()


@pytest.fixture(scope="session")
async def network_service(make_database, nats_url, businesses_service, network_clock, network_loyalty):
    from services.network.config import NetworkSettings
    from services.network.main import build as build_network

    database = await fresh_database(make_database, "partner-network", "network")
    running = await serve(
        lambda settings: build_network(settings, network_clock, network_loyalty),
        NetworkSettings,
        database,
        nats_url=nats_url,
        businesses_addr=businesses_service.address,
    )
    yield running
    await running.stop()


@pytest.fixture
def network_stub(network_service):
    from novatrek.network.v1 import network_pb2_grpc

    return network_pb2_grpc.PartnerNetworkServiceStub(network_service.channel)


@pytest.fixture
def wallet_stub(wallet_service):
    from novatrek.wallet.v1 import wallet_pb2_grpc

    return wallet_pb2_grpc.WalletServiceStub(wallet_service.channel)


@pytest.fixture
def businesses_stub(businesses_service):
    from novatrek.businesses.v1 import businesses_pb2_grpc

    return businesses_pb2_grpc.BusinessServiceStub(businesses_service.channel)


@pytest.fixture
def passes_stub(passes_service):
    from novatrek.passes.v1 import passes_pb2_grpc

    return passes_pb2_grpc.PassServiceStub(passes_service.channel)


@pytest.fixture(scope="session")
async def loyalty_service(make_database, nats_url):
    from services.loyalty.config import LoyaltySettings
    from services.loyalty.main import build as build_loyalty

    database = await fresh_database(make_database, "loyalty", "loyalty")
    running = await serve(build_loyalty, LoyaltySettings, database, nats_url=nats_url, expiry_interval_s=0.5)
    yield running
    await running.stop()


@pytest.fixture(scope="session")
async def bookings_service(
    make_database, nats_url, catalog_service, businesses_service, passes_service, wallet_service, payments_service
):
    from services.bookings.config import BookingSettings
    from services.bookings.main import build as build_bookings

    peers = {
        "catalog_addr": catalog_service.address,
        "businesses_addr": businesses_service.address,
        "passes_addr": passes_service.address,
        "wallet_addr": wallet_service.address,
        "payments_addr": payments_service.address,
    }
    database = await fresh_database(make_database, "bookings", "bookings_shared")
    running = await serve(build_bookings, BookingSettings, database, nats_url=nats_url, billing_interval_s=0.5, **peers)
    yield running
    await running.stop()


@pytest.fixture
def loyalty_stub(loyalty_service):
    from novatrek.loyalty.v1 import loyalty_pb2_grpc

    return loyalty_pb2_grpc.LoyaltyServiceStub(loyalty_service.channel)


class _SpanSwitch:
    """A sampler that records spans only while a test asks for them (`exported_spans`): the provider
    can be set once per process, and a recording one left on would keep every span of the rest of the
    session in memory and slow every later call."""

    on = False

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None):
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

        chosen = ALWAYS_ON if self.on else ALWAYS_OFF
        return chosen.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "on while a test reads its spans"


@pytest.fixture(scope="session")
def _span_recorder():
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    switch, exporter = _SpanSwitch(), InMemorySpanExporter()
    provider = TracerProvider(sampler=switch)  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return switch, exporter


@pytest.fixture
def exported_spans(_span_recorder):
    """The spans recorded during this test, in memory (none are recorded outside such a test)."""
    switch, exporter = _span_recorder
    exporter.clear()
    switch.on = True
    yield exporter
    switch.on = False
    exporter.clear()


async def spent(service: str, call) -> tuple[float, ...]:
    """The statements and commits `service` (its registry name) spent answering `call` (a coroutine),
    from the process's request counters (bench/counts.py)."""
    from bench.counts import from_registry

    before = await from_registry()
    await call
    after = await from_registry()
    return tuple(
        after.get((service, "call", u), 0) - before.get((service, "call", u), 0) for u in ("statement", "commit")
    )
