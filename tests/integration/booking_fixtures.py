"""Bookings in-process on port 0 with the real trip-catalog, businesses, passes, wallet and payments
servers (PostgreSQL, NATS). Helpers make a company, its customer, a session, a pass, a top-up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from google.protobuf import timestamp_pb2
from google.type import money_pb2
from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.bookings.v1 import bookings_pb2_grpc
from novatrek.businesses.v1 import businesses_pb2 as biz
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.passes.v1 import passes_pb2 as pas

from clients.businesses import BusinessesClient
from clients.catalog import CatalogClient
from clients.passes import PassClient
from clients.payments import PaymentsClient
from clients.wallet import WalletClient
from services.bookings.config import BookingSettings
from services.bookings.main import build
from tests.integration.conftest import fresh_database, serve


def at(hours: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(hours=hours))
    return ts


def eur(units: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=units)


class Mesh:
    def __init__(self, catalog, businesses, passes, wallet, payments) -> None:
        self.catalog_service = catalog
        self.addresses = {
            "catalog_addr": catalog.address,
            "businesses_addr": businesses.address,
            "passes_addr": passes.address,
            "wallet_addr": wallet.address,
            "payments_addr": payments.address,
        }
        self.catalog = CatalogClient(catalog.address, 10.0)
        self.businesses = BusinessesClient(businesses.address, 10.0)
        self.passes = PassClient(passes.address, 10.0)
        self.wallet = WalletClient(wallet.address, 10.0)
        self.payments = PaymentsClient(payments.address, 10.0)

    async def top_up(self, company_id: str, customer_id: str, cash: str, bonus: str = "0") -> None:
        await self.wallet.top_up(str(uuid.uuid4()), customer_id, company_id, "EUR", Decimal(cash), Decimal(bonus))

    async def balance(self, company_id: str, customer_id: str) -> tuple[int, int]:
        wallet = await self.wallet.wallet(customer_id, company_id)
        return wallet.cash.units, wallet.bonus.units

    async def customer(self) -> tuple[str, biz.Customer]:
        company = await self.businesses.create_company(str(uuid.uuid4()), "Harbour kayaks", 2, "EUR")
        user = str(uuid.uuid4())
        made = await self.businesses.register_customer(company.company_id, f"{user}@example.com", "Ada", user_id=user)
        return company.company_id, made

    async def session(self, company_id: str, capacity: int = 10, start_h: float = 24) -> cat.Session:
        stub = self.catalog.stub
        wanted = cat.Activity(company_id=company_id, name="Sea kayak", category="water")
        activity = (await stub.CreateActivity(cat.CreateActivityRequest(activity=wanted))).activity
        session = cat.Session(
            activity_id=activity.activity_id, start_time=at(start_h), end_time=at(start_h + 2), capacity=capacity,
            price=eur(35),
        )  # fmt: skip
        return (await stub.CreateSession(cat.CreateSessionRequest(session=session))).session

    async def booked(self, session_id: str) -> int:
        return (await self.catalog.get_session(session_id)).booked

    async def entitlement(self, company_id: str, customer_id: str, sessions: int = 1) -> pas.CustomerEntitlement:
        stub = self.passes.stub
        product = pas.CreatePassProductRequest(
            request_id=str(uuid.uuid4()), company_id=company_id, name="Five paddles", sessions=sessions,
            validity_days=30, price=eur(100),
        )  # fmt: skip
        made = (await stub.CreatePassProduct(product)).product
        issue = pas.IssueEntitlementRequest(
            request_id=str(uuid.uuid4()), product_id=made.product_id, customer_id=customer_id
        )
        return (await stub.IssueEntitlement(issue)).entitlement

    async def remaining(self, entitlement_id: str) -> int:
        return (await self.passes.entitlement(entitlement_id)).sessions_remaining

    async def close(self) -> None:
        for client in (self.catalog, self.businesses, self.passes, self.wallet, self.payments):
            await client.close()


@pytest.fixture(scope="module")
async def bookings_mesh(
    make_database, nats_url, catalog_service, businesses_service, passes_service, wallet_service, payments_service
):
    mesh = Mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)
    database = await fresh_database(make_database, "bookings", "bookings")
    running = await serve(build, BookingSettings, database, nats_url=nats_url, billing_interval_s=0.5, **mesh.addresses)
    mesh.bookings = bookings_pb2_grpc.BookingServiceStub(running.channel)
    yield mesh
    await running.stop()
    await mesh.close()


def booking(company_id: str, session: cat.Session, customer: biz.Customer, **payment) -> pb.CreateBookingRequest:
    return pb.CreateBookingRequest(
        booking_id=str(uuid.uuid4()),
        company_id=company_id,
        session_id=session.session_id,
        user_id=customer.user_id,
        payment=pb.Payment(**payment),
    )
