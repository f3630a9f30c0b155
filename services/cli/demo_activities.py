"""Demo data of the session bookings (seed 004) for `novatrek up`, loaded through the public gRPC APIs
and idempotent: companies, passes and top-ups by fixed request ids, activities by name, sessions and
extras only where an activity has none to come."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import grpc

from services.chassis.protoconv import money_to_proto, timestamp

TIMEOUT_S = 10.0
CURRENCY = "EUR"
_NS = uuid.UUID("6f1c9a52-3d2b-4c55-9a43-0f3f6c1c2d10")  # fixed: the same ids on every `up`


def demo_id(name: str) -> str:
    return str(uuid.uuid5(_NS, name))


@dataclass(frozen=True)
class DemoActivity:
    name: str
    category: str
    price: Decimal
    capacity: int
    hours: int
    extras: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class DemoCompany:
    name: str
    kind: str  # CompanyKind's name
    activity: DemoActivity


COMPANIES = (
    DemoCompany(
        "NovaTrek Base Chamonix",
        "COMPANY_KIND_NOVATREK_BASE",
        DemoActivity("Kayak lesson", "water", Decimal("45.00"), 8, 2, (("Wetsuit rental", Decimal("8.00")),)),
    ),
    DemoCompany(
        "Vertical Partner Climbing",
        "COMPANY_KIND_PARTNER_BUSINESS",
        DemoActivity("Climbing wall slot", "climbing", Decimal("25.00"), 12, 1, (("Shoe rental", Decimal("5.00")),)),
    ),
)
SESSION_DAYS, SESSION_HOURS = (1, 2, 3), (10, 14)
CUSTOMER_EMAIL, CUSTOMER_NAME = "ada.lovelace@demo.novatrek.io", "Ada Lovelace"
DEMO_USER_ID = demo_id("demo-user")  # the platform user of the printed customer token
PASS_NAME, PASS_SESSIONS, PASS_DAYS, PASS_PRICE = "5-session kayak pass", 5, 180, Decimal("200.00")
TOP_UP_CASH, TOP_UP_BONUS = Decimal("100.00"), Decimal("20.00")


@dataclass
class ActivitiesDemo:
    companies: dict[str, str] = field(default_factory=dict)  # name -> company_id
    sessions: dict[str, list[str]] = field(default_factory=dict)  # company_id -> future session ids
    customer_id: str = ""  # the demo user's customer at the first company
    entitlement_id: str = ""
    user_id: str = DEMO_USER_ID


def _company(stub, pb, company: DemoCompany) -> str:
    request = pb.CreateCompanyRequest(
        request_id=demo_id(company.name), name=company.name, kind=pb.CompanyKind.Value(company.kind), currency=CURRENCY
    )
    return str(stub.CreateCompany(request, timeout=TIMEOUT_S).company.company_id)


def _activity(stub, pb, company_id: str, demo: DemoActivity) -> str:
    listed = stub.ListActivities(pb.ListActivitiesRequest(company_id=company_id, page_size=100), timeout=TIMEOUT_S)
    for activity in listed.activities:
        if activity.name == demo.name:
            return str(activity.activity_id)
    new = pb.Activity(company_id=company_id, name=demo.name, category=demo.category)
    return str(stub.CreateActivity(pb.CreateActivityRequest(activity=new), timeout=TIMEOUT_S).activity.activity_id)


def _sessions(stub, pb, activity_id: str, demo: DemoActivity, now: datetime) -> list[str]:
    """The activity's sessions to come; a few are scheduled when it has none."""
    coming = pb.ListSessionsRequest(activity_id=activity_id, start_after=timestamp(now), page_size=100)
    found = [s.session_id for s in stub.ListSessions(coming, timeout=TIMEOUT_S).sessions]
    if found:
        return found
    for day in SESSION_DAYS:
        for hour in SESSION_HOURS:
            start = datetime.combine(now.date() + timedelta(days=day), time(hour), tzinfo=UTC)
            session = pb.Session(
                activity_id=activity_id,
                start_time=timestamp(start),
                end_time=timestamp(start + timedelta(hours=demo.hours)),
                capacity=demo.capacity,
                price=money_to_proto(demo.price, CURRENCY),
            )
            found.append(
                stub.CreateSession(pb.CreateSessionRequest(session=session), timeout=TIMEOUT_S).session.session_id
            )
    return found


def _extras(stub, pb, activity_id: str, demo: DemoActivity) -> None:
    if stub.ListExtras(pb.ListExtrasRequest(activity_id=activity_id), timeout=TIMEOUT_S).extras:
        return
    for name, price in demo.extras:
        extra = pb.Extra(activity_id=activity_id, name=name, unit_price=money_to_proto(price, CURRENCY))
        stub.CreateExtra(pb.CreateExtraRequest(extra=extra), timeout=TIMEOUT_S)


def load(addresses: dict[str, str], now: datetime | None = None) -> ActivitiesDemo:
    """Everything the session bookings need, when businesses, trip-catalog, passes and wallet run."""
    from novatrek.businesses.v1 import businesses_pb2, businesses_pb2_grpc
    from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc
    from novatrek.passes.v1 import passes_pb2, passes_pb2_grpc
    from novatrek.wallet.v1 import wallet_pb2, wallet_pb2_grpc

    data = ActivitiesDemo()
    needed = ("businesses", "trip-catalog", "passes", "wallet")
    if not all(name in addresses for name in needed):
        return data
    now = now or datetime.now(UTC)
    channels = {name: grpc.insecure_channel(addresses[name]) for name in needed}
    try:
        companies = businesses_pb2_grpc.BusinessServiceStub(channels["businesses"])
        catalog = catalog_pb2_grpc.CatalogServiceStub(channels["trip-catalog"])
        activity_ids: dict[str, str] = {}
        for company in COMPANIES:
            company_id = data.companies[company.name] = _company(companies, businesses_pb2, company)
            activity_id = activity_ids[company_id] = _activity(catalog, catalog_pb2, company_id, company.activity)
            data.sessions[company_id] = _sessions(catalog, catalog_pb2, activity_id, company.activity, now)
            _extras(catalog, catalog_pb2, activity_id, company.activity)
        base = data.companies[COMPANIES[0].name]
        customer = businesses_pb2.RegisterCustomerRequest(
            company_id=base, email=CUSTOMER_EMAIL, full_name=CUSTOMER_NAME, user_id=DEMO_USER_ID
        )
        data.customer_id = companies.RegisterCustomer(customer, timeout=TIMEOUT_S).customer.customer_id
        passes = passes_pb2_grpc.PassServiceStub(channels["passes"])
        product = passes_pb2.CreatePassProductRequest(
            request_id=demo_id(PASS_NAME),
            company_id=base,
            name=PASS_NAME,
            sessions=PASS_SESSIONS,
            validity_days=PASS_DAYS,
            activity_ids=[activity_ids[base]],
            price=money_to_proto(PASS_PRICE, CURRENCY),
        )
        product_id = passes.CreatePassProduct(product, timeout=TIMEOUT_S).product.product_id
        issue = passes_pb2.IssueEntitlementRequest(
            request_id=demo_id(f"entitlement:{data.customer_id}"), product_id=product_id, customer_id=data.customer_id
        )
        data.entitlement_id = passes.IssueEntitlement(issue, timeout=TIMEOUT_S).entitlement.entitlement_id
        top_up = wallet_pb2.TopUpWalletRequest(
            operation_id=demo_id(f"top-up:{data.customer_id}"),
            customer_id=data.customer_id,
            company_id=base,
            cash=money_to_proto(TOP_UP_CASH, CURRENCY),
            bonus=money_to_proto(TOP_UP_BONUS, CURRENCY),
        )
        wallet_pb2_grpc.WalletServiceStub(channels["wallet"]).TopUpWallet(top_up, timeout=TIMEOUT_S)
    finally:
        for channel in channels.values():
            channel.close()
    return data
