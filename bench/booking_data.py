"""The data of the create_booking scenario: a company, customers (with platform users) whose wallets
are topped up with a lot, and sessions of the company with the most seats the catalog allows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf import timestamp_pb2
from google.type import money_pb2
from novatrek.businesses.v1 import businesses_pb2 as biz
from novatrek.businesses.v1 import businesses_pb2_grpc
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.wallet.v1 import wallet_pb2, wallet_pb2_grpc

from services.catalog.domain import MAX_CAPACITY

# A session is 35 EUR; each wallet pays for this many bookings, more than any run makes.
PRICE, TOP_UP = 35, 10_000_000


def _at(days: int, hours: int = 0) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(days=days, hours=hours))
    return ts


def make_booking_data(addresses: dict[str, str], customers: int = 16, sessions: int = 8) -> dict:
    """{company_id, customers: [(customer_id, user_id)], session_ids}."""
    eur = money_pb2.Money(currency_code="EUR", units=PRICE)
    with grpc.insecure_channel(addresses["businesses"]) as ch:
        businesses = businesses_pb2_grpc.BusinessServiceStub(ch)
        company = businesses.CreateCompany(
            biz.CreateCompanyRequest(
                request_id=str(uuid.uuid4()),
                name="Bench kayaks",
                kind=biz.COMPANY_KIND_PARTNER_BUSINESS,
                currency="EUR",
            )
        ).company.company_id
        made = []
        for i in range(customers):
            user_id = str(uuid.uuid4())
            request = biz.RegisterCustomerRequest(
                company_id=company, email=f"bench-{i}-{user_id[:8]}@example.com", full_name="Bench", user_id=user_id
            )
            made.append((businesses.RegisterCustomer(request).customer.customer_id, user_id))
    with grpc.insecure_channel(addresses["wallet"]) as ch:
        wallet = wallet_pb2_grpc.WalletServiceStub(ch)
        for customer_id, _ in made:
            wallet.TopUpWallet(
                wallet_pb2.TopUpWalletRequest(
                    operation_id=str(uuid.uuid4()), customer_id=customer_id, company_id=company,
                    cash=money_pb2.Money(currency_code="EUR", units=TOP_UP),
                )
            )  # fmt: skip
    session_ids = []
    with grpc.insecure_channel(addresses["trip-catalog"]) as ch:
        catalog = catalog_pb2_grpc.CatalogServiceStub(ch)
        wanted = cat.Activity(company_id=company, name="Bench kayak", category="water")
        activity = catalog.CreateActivity(cat.CreateActivityRequest(activity=wanted)).activity.activity_id
        for i in range(sessions):
            session = cat.Session(
                activity_id=activity, start_time=_at(30, i), end_time=_at(30, i + 1), capacity=MAX_CAPACITY, price=eur
            )
            session_ids.append(catalog.CreateSession(cat.CreateSessionRequest(session=session)).session.session_id)
    return {"company_id": company, "customers": made, "session_ids": session_ids}
