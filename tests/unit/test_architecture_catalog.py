"""The architecture catalog of this repository: every service, RPC and event classified, seed 003's
names and owners, relations found in the code, the HTML page and the EventCatalog export."""

from __future__ import annotations

import pytest

from services.architecture.build import build
from services.architecture.eventcatalog import export
from services.architecture.html import page
from services.cli.gen import ROOT


@pytest.fixture(scope="module")
def built():
    return build(ROOT)


def test_everything_is_classified(built):
    """A service without a name, an RPC whose request has no kind, an event without KIND_EVENT, a flow
    step naming nothing or a saga whose steps drifted from its flow is a problem."""
    catalog, contracts = built
    assert catalog.problems == []
    services = {f"{f.package}.{s.name}" for f in contracts.own_files() for s in f.service}
    assert services == {r.proto for r in catalog.of_kind("service") if r.proto}
    rpcs = {f"{f.package}.{s.name}.{m.name}" for f in contracts.own_files() for s in f.service for m in s.method}
    assert rpcs == {r.proto for r in catalog.of_kind("command", "query")}
    events = {name for name, t in contracts.types.items() if t.is_event()}
    assert events == {r.proto for r in catalog.of_kind("event")}


def test_an_unclassified_request_is_a_problem(built):
    contracts = built[1]
    from services.architecture.contracts import proto_resources

    request = contracts.types["novatrek.orders.v1.GetOrderRequest"].proto
    saved = request.options.SerializeToString()
    request.options.Clear()
    try:
        problems: list[str] = []
        proto_resources(contracts, problems)
    finally:
        request.options.ParseFromString(saved)
    assert problems == [
        "rpc novatrek.orders.v1.OrderService.GetOrder: request novatrek.orders.v1.GetOrderRequest"
        " not classified (KIND_COMMAND or KIND_QUERY)"
    ]


SEED = {
    "checkout-system": ("Checkout System", "system", "ordering-platform"),
    "checkout-api": ("Checkout API", "service", "ordering-platform"),
    "checkout-orchestrator": ("Checkout Orchestrator", "service", "ordering-platform"),
    "checkout-saga": ("Checkout Saga", "flow", "ordering-platform"),
    "place-an-order": ("Place an Order", "flow", "ordering-platform"),
    "reserve-inventory": ("Reserve Inventory", "command", "ordering-platform"),
    "authorize-payment": ("Authorize Payment", "command", "ordering-platform"),
    "create-order": ("Create Order", "command", "ordering-platform"),
    "cancel-order": ("Cancel Order", "command", "ordering-platform"),
    "get-order": ("Get Order", "query", "ordering-platform"),
    "order-created": ("Order Created", "event", "ordering-platform"),
    "order-completed": ("Order Completed", "event", "ordering-platform"),
    "order-cancelled": ("Order Cancelled", "event", "ordering-platform"),
    "order-database": ("Order Database", "container", "ordering-platform"),
    "order-management-system": ("Order Management System", "system", "ordering-platform"),
    "order-service": ("Order Service", "service", "ordering-platform"),
    "payment-processing-system": ("Payment Processing System", "system", "payments-platform"),
    "inventory-system": ("Inventory System", "system", "fulfilment-platform"),
}


@pytest.mark.parametrize("rid", sorted(SEED))
def test_seed_names_and_owners(built, rid):
    r = built[0].resources[rid]
    assert (r.name, r.kind, r.owner) == SEED[rid]


def test_relations_come_from_the_code(built):
    catalog, _ = built
    assert catalog.targets("checkout-orchestrator", "sends") == [
        "authorize-payment", "cancel-order", "checkout-completed", "checkout-failed",
        "create-order", "release-inventory", "reserve-inventory", "void-authorization",
    ]  # fmt: skip
    assert {"checkout-cart", "cart-checked-out"} <= set(catalog.targets("checkout-api", "receives"))
    assert catalog.targets("order-service", "sends") == ["order-cancelled", "order-completed", "order-created"]
    assert catalog.related("order-completed", "receives") == ["inventory-service", "loyalty-service", "payment-service"]
    assert "payment-processed" in catalog.targets("reservation-service", "receives")
    # a client call is the client's only when its receiver is one (a dict's `.get` is not Get Guest)
    assert catalog.targets("reservation-service", "sends") == [
        "hold-seats", "release-seats", "reservation-created", "reservation-status-changed", "validate-guest",
    ]  # fmt: skip
    assert "validate-guest" in catalog.targets("partner-integration-service", "sends")
    assert {"checkout-api", "checkout-orchestrator", "checkout-database"} <= set(
        catalog.targets("checkout-system", "holds")
    )
    assert [s.resource for s in catalog.flows["checkout-saga"]][1:4] == [
        "reserve-inventory",
        "authorize-payment",
        "create-order",
    ]
    created = catalog.resources["order-created"]
    assert (created.version, created.summary) == (
        "1.0.0",
        "Order Created: a checked-out cart became a confirmed order.",
    )


def test_html_page_is_self_contained(built):
    html = page(built[0])
    assert "Checkout Orchestrator" in html and "<style>" in html and "<script>" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html


def test_eventcatalog_export_layout_and_frontmatter(built, tmp_path):
    catalog, contracts = built
    export(catalog, contracts, tmp_path)
    service = (tmp_path / "services" / "CheckoutOrchestrator" / "index.mdx").read_text()
    assert service.startswith('---\nid: "checkout-orchestrator"\nname: "Checkout Orchestrator"\nversion: "1.0.0"\n')
    assert 'owners:\n  - "ordering-platform"' in service and 'sends:\n  - id: "authorize-payment"' in service
    event = (tmp_path / "events" / "OrderCreated" / "index.mdx").read_text()
    assert (
        'schemaPath: "schema.proto"' in event
        and "message OrderCreated" in (tmp_path / "events" / "OrderCreated" / "schema.proto").read_text()
    )
    assert (tmp_path / "commands" / "ReserveInventory" / "index.mdx").exists()
    assert (tmp_path / "queries" / "GetOrder" / "index.mdx").exists()
    flow = (tmp_path / "flows" / "PlaceAnOrder" / "index.mdx").read_text()
    assert (
        'steps:\n  - id: "1-customer-checks-out-a-cart"' in flow
        and 'next_step:\n      id: "2-cart-checked-out"' in flow
    )
    assert 'id: "checkout-saga"' in flow  # a step that is a flow
    assert (tmp_path / "teams" / "ordering-platform.mdx").read_text().startswith('---\nid: "ordering-platform"\n')
    assert (tmp_path / "domains" / "Ordering" / "index.mdx").exists()


SECOND_RING = {  # the activities contexts and coalition loyalty (seeds 002, 004): name, kind, owner
    "business-service": ("Business Service", "service", "business-platform"),
    "pass-service": ("Pass Service", "service", "activities-platform"),
    "wallet-service": ("Wallet Service", "service", "payments-platform"),
    "session-booking-api": ("Session Booking API", "service", "activities-platform"),
    "booking-orchestrator": ("Booking Orchestrator", "service", "activities-platform"),
    "loyalty-service": ("Loyalty Service", "service", "loyalty-platform"),
    "loyalty-database": ("Loyalty Database", "container", "loyalty-platform"),
    "partner-network-service": ("Partner Network Service", "service", "partner-squad"),
    "partner-network-system": ("Partner Network System", "system", "partner-squad"),
    "partner-network-database": ("Partner Network Database", "container", "partner-squad"),
    "partner-network": ("Partner Network", "domain", "partner-squad"),
    "join-a-partner-network": ("Join a Partner Network", "flow", "partner-squad"),
    "redeem-across-a-partner-network": ("Redeem Across a Partner Network", "flow", "partner-squad"),
    "settle-network-revenue": ("Settle Network Revenue", "flow", "partner-squad"),
}


@pytest.mark.parametrize("rid", sorted(SECOND_RING))
def test_second_ring_names_and_owners(built, rid):
    r = built[0].resources[rid]
    assert (r.name, r.kind, r.owner) == SECOND_RING[rid]


def test_every_context_of_the_registry_is_a_service_of_the_catalog(built):
    from services.cli.registry import REGISTRY

    services = {r.proto for r in built[0].of_kind("service") if r.proto}
    assert {s.grpc_service for s in REGISTRY.values()} <= services


def test_seed_002_flows_run_from_an_earning_to_the_settlement(built):
    catalog = built[0]
    redeem = [s.resource for s in catalog.flows["redeem-across-a-partner-network"] if s.resource]
    assert redeem == [
        "booking-paid", "earn-points", "points-earned", "redeem-across-network", "get-loyalty-account",
        "redeem-points", "cross-business-transaction-completed",
    ]  # fmt: skip
    settle = [s.resource for s in catalog.flows["settle-network-revenue"] if s.resource]
    assert settle == ["cross-business-transaction-completed", "settle-revenue", "revenue-settlement-processed"]
    # the steps' relations are the code's: partner-network asks loyalty, loyalty consumes Booking Paid
    assert {"get-loyalty-account", "redeem-points"} <= set(catalog.targets("partner-network-service", "sends"))
    assert "booking-paid" in catalog.targets("loyalty-service", "receives")


def test_every_review_category_names_resources_of_the_catalog(built):
    """A misspelt name in a category's `resources` would match no change, silently."""
    from services.architecture.build import load_data
    from services.architecture.model import slug

    catalog, data = built[0], load_data(ROOT)
    unknown = {
        cid: [n for n in [*c.get("resources", []), c.get("domain", "Platform")] if slug(n) not in catalog.resources]
        for cid, c in data["categories"].items()
    }
    assert {cid: names for cid, names in unknown.items() if names} == {}
