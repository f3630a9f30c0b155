"""The session bookings mesh of the reliability scenarios: trip-catalog, passes, wallet, payments and
bookings on databases of their own (the ledger reads them whole), businesses shared; bookings calls
wallet and payments through fault proxies. Fast saga recovery, billing and session finishing, so a
scenario waits for compensations and bills in seconds. Helpers make what the scenarios book with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.bookings.v1 import bookings_pb2_grpc
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.passes.v1 import passes_pb2 as pas
from novatrek.passes.v1 import passes_pb2_grpc

from clients.businesses import BusinessesClient
from clients.wallet import WalletClient
from services.bookings.config import BookingSettings
from services.bookings.main import build as build_bookings
from services.catalog.config import CatalogSettings
from services.catalog.main import build as build_catalog
from services.passes.config import PassSettings
from services.passes.main import build as build_passes
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.wallet.config import WalletSettings
from services.wallet.main import build as build_wallet
from tests.integration.booking_fixtures import at, eur
from tests.integration.conftest import Running, serve
from tests.reliability.booking_ledger import BookingDatabases
from tests.reliability.faults import FaultProxy
from tests.reliability.mesh import database

# Compensations left to recovery end within seconds; the lease stays long enough for a saga recorded
# under load to run its steps. The billing loop looks for work often.
FAST_BOOKINGS = {
    "saga_lease_s": 3.0,
    "saga_recovery_interval_s": 0.3,
    "outbound_timeout_s": 1.0,
    "payments_timeout_s": 2.0,
    "billing_interval_s": 0.3,
    "refund_interval_s": 0.5,
    "claim_s": 5.0,
}
PRICE = 35


@dataclass
class BookingMesh:
    catalog: Running
    passes: Running
    wallet: Running
    payments: Running
    bookings: Running
    proxies: dict[str, FaultProxy]
    businesses: BusinessesClient
    wallets: WalletClient
    db: BookingDatabases

    @property
    def stub(self):
        return bookings_pb2_grpc.BookingServiceStub(self.bookings.channel)

    async def company(self) -> str:
        return (await self.businesses.create_company(str(uuid.uuid4()), "Storm kayaks", 2, "EUR")).company_id

    async def customers(self, company_id: str, n: int) -> list[str]:
        return [
            (
                await self.businesses.register_customer(company_id, f"{uuid.uuid4().hex[:12]}@example.com", "Ada")
            ).customer_id
            for _ in range(n)
        ]

    async def session(self, company_id: str, capacity: int, start_h: float = 24) -> str:
        stub = catalog_pb2_grpc.CatalogServiceStub(self.catalog.channel)
        wanted = cat.Activity(company_id=company_id, name="Sea kayak", category="water")
        activity = (await stub.CreateActivity(cat.CreateActivityRequest(activity=wanted))).activity
        session = cat.Session(
            activity_id=activity.activity_id, start_time=at(start_h), end_time=at(start_h + 2), capacity=capacity,
            price=eur(PRICE),
        )  # fmt: skip
        return (await stub.CreateSession(cat.CreateSessionRequest(session=session))).session.session_id

    async def pass_of(self, company_id: str, customer_id: str, sessions: int) -> str:
        stub = passes_pb2_grpc.PassServiceStub(self.passes.channel)
        product = pas.CreatePassProductRequest(
            request_id=str(uuid.uuid4()), company_id=company_id, name="Storm pass", sessions=sessions,
            validity_days=30, price=eur(100),
        )  # fmt: skip
        made = (await stub.CreatePassProduct(product)).product
        issue = pas.IssueEntitlementRequest(
            request_id=str(uuid.uuid4()), product_id=made.product_id, customer_id=customer_id
        )
        return (await stub.IssueEntitlement(issue)).entitlement.entitlement_id

    async def top_up(self, company_id: str, customer_id: str, cash: int) -> None:
        await self.wallets.top_up(str(uuid.uuid4()), customer_id, company_id, "EUR", Decimal(cash), Decimal(0))

    async def close(self) -> None:
        await self.businesses.close()
        await self.wallets.close()
        for proxy in self.proxies.values():
            await proxy.down()
        for running in (self.bookings, self.payments, self.wallet, self.passes, self.catalog):
            await running.stop()


def request(company_id: str, session_id: str, customer_id: str, **payment) -> pb.CreateBookingRequest:
    return pb.CreateBookingRequest(
        booking_id=str(uuid.uuid4()),
        company_id=company_id,
        session_id=session_id,
        customer_id=customer_id,
        payment=pb.Payment(**payment),
    )


async def start(make_database, nats_url: str, businesses: Running, **settings) -> BookingMesh:
    """`settings` override FAST_BOOKINGS (the storms give the calls time: they test contention, not outages)."""
    # the finish job runs often: a session moved into the past is finished (and announced) at once
    catalog = await serve(
        build_catalog, CatalogSettings, await database(make_database, "trip-catalog"), nats_url=nats_url,
        finish_interval_s=0.3,
    )  # fmt: skip
    passes = await serve(build_passes, PassSettings, await database(make_database, "passes"))
    wallet = await serve(build_wallet, WalletSettings, await database(make_database, "wallet"), nats_url=nats_url)
    payments = await serve(
        build_payments, PaymentSettings, await database(make_database, "payments"), nats_url=nats_url
    )
    proxies = {"wallet": await FaultProxy(wallet.address).up(), "payments": await FaultProxy(payments.address).up()}
    bookings = await serve(
        build_bookings,
        BookingSettings,
        await database(make_database, "bookings"),
        nats_url=nats_url,
        catalog_addr=catalog.address,
        businesses_addr=businesses.address,
        passes_addr=passes.address,
        wallet_addr=proxies["wallet"].address,
        payments_addr=proxies["payments"].address,
        **{**FAST_BOOKINGS, **settings},
    )
    db = BookingDatabases(
        catalog.database_url, passes.database_url, wallet.database_url, payments.database_url, bookings.database_url
    )
    return BookingMesh(
        catalog, passes, wallet, payments, bookings, proxies,
        BusinessesClient(businesses.address, 10.0), WalletClient(wallet.address, 10.0), db,
    )  # fmt: skip
