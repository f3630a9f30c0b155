"""The second ring observed like the first: a redemption across a partner network is one connected trace
(the caller, partner-network, loyalty's balance and redemption) that the events it publishes carry on;
a session booking's BookingPaid continues the booking's trace into loyalty's consumer; /metrics of
loyalty and partner-network serve their RPCs, loyalty's consumers and both outboxes."""

from __future__ import annotations

import uuid

import nats
from google.type import money_pb2
from novatrek.bookings.v1 import bookings_pb2 as bpb
from novatrek.bookings.v1 import events_pb2 as booking_events
from novatrek.loyalty.v1 import loyalty_pb2 as lpb
from novatrek.loyalty.v1 import loyalty_pb2_grpc
from novatrek.network.v1 import network_pb2 as pb
from novatrek.network.v1 import network_pb2_grpc
from opentelemetry import trace

from clients.loyalty import LoyaltyClient
from services.chassis.telemetry import inject
from services.cli.embedded import free_port
from services.loyalty.config import LoyaltySettings
from services.loyalty.main import build as build_loyalty
from services.network.config import NetworkSettings
from services.network.main import build as build_network
from tests.helpers import eventually
from tests.integration.booking import new_guest
from tests.integration.booking_fixtures import booking, bookings_mesh  # noqa: F401 (fixture)
from tests.integration.conftest import fresh_database, serve
from tests.integration.network_fixtures import (
    founded,
    invited_and_joined,
    network_over_loyalty,  # noqa: F401 (fixture)
)
from tests.integration.observed import Published, consumer_events, orphans, parent_of, scrape, spans_of

SERVER, CONSUMER = trace.SpanKind.SERVER, trace.SpanKind.CONSUMER
COMPLETED = "novatrek.network.cross_business.transaction.completed"
REDEEMED = "novatrek.loyalty.points.redeemed"


async def coalition(network_stub, businesses_stub, loyalty_stub, points: int) -> tuple[str, str, str, str]:
    """A network of A and B, B's points worth 0.05 EUR, a guest with `points` earned at A:
    (network, a, b, guest)."""
    network, a = await founded(network_stub, businesses_stub)
    b = await invited_and_joined(network_stub, businesses_stub, network, a)
    value = money_pb2.Money(currency_code="EUR", nanos=50_000_000)
    await loyalty_stub.SetRedeemRule(lpb.SetRedeemRuleRequest(company_id=b, point_value=value))
    guest = str(uuid.uuid4())
    await loyalty_stub.EarnPoints(
        lpb.EarnPointsRequest(operation_id=str(uuid.uuid4()), member_id=guest, company_id=a, points=points)
    )
    return network, a, b, guest


def redeem(network: str, guest: str, at: str, points: int) -> pb.RedeemAcrossNetworkRequest:
    return pb.RedeemAcrossNetworkRequest(
        operation_id=str(uuid.uuid4()), network_id=network, member_id=guest, company_id=at, points=points
    )


async def test_a_redemption_across_the_network_is_one_trace_its_events_carry_on(
    exported_spans, network_over_loyalty, businesses_stub, loyalty_stub, nats_url
):
    network, _, b, guest = await coalition(network_over_loyalty, businesses_stub, loyalty_stub, 100)
    published = Published()
    nc = await nats.connect(nats_url)
    try:
        for subject in (COMPLETED, REDEEMED):
            await nc.subscribe(subject, cb=published.take)
        with trace.get_tracer("test").start_as_current_span("guest redeems at B") as root:
            await network_over_loyalty.RedeemAcrossNetwork(
                redeem(network, guest, b, 60), metadata=tuple(inject().items())
            )
        trace_id = root.get_span_context().trace_id
        events = await eventually(lambda: published.of(trace_id, COMPLETED, REDEEMED), timeout_s=20)
    finally:
        await nc.close()
    spans = spans_of(exported_spans, root)
    servers = {(s.instrumentation_scope.name, s.name) for s in spans if s.kind == SERVER}
    assert {
        ("novatrek.partner-network", "novatrek.network.v1.PartnerNetworkService/RedeemAcrossNetwork"),
        ("novatrek.loyalty", "novatrek.loyalty.v1.LoyaltyService/GetLoyaltyAccount"),
        ("novatrek.loyalty", "novatrek.loyalty.v1.LoyaltyService/RedeemPoints"),
    } <= servers, servers
    assert not orphans(spans, root), orphans(spans, root)
    # the outbox rows carry the trace: a consumer of either event continues it from the server span that wrote it
    by_id = {s.context.span_id: s for s in spans}
    assert by_id[parent_of(events[COMPLETED])].name.endswith("/RedeemAcrossNetwork")
    assert by_id[parent_of(events[REDEEMED])].name.endswith("/RedeemPoints")


async def test_a_paid_booking_continues_its_trace_into_loyaltys_consumer(
    exported_spans, bookings_mesh, loyalty_service, guests_stub
):
    m, loyalty = bookings_mesh, LoyaltyClient(loyalty_service.address, 10.0)
    try:
        company = (await m.businesses.create_company(str(uuid.uuid4()), "Harbour kayaks", 2, "EUR")).company_id
        await loyalty.set_earn_rule(company, lpb.EARN_SOURCE_SESSION, "1")
        guest = await new_guest(guests_stub)
        customer = await m.businesses.register_customer(company, f"{guest}@example.com", "Ada", guest_id=guest)
        session = await m.session(company)
        await m.top_up(company, customer.customer_id, "100")
        request = booking(company, session, customer, method=bpb.PAYMENT_METHOD_WALLET)
        request.user_id, request.customer_id = "", customer.customer_id
        with trace.get_tracer("test").start_as_current_span("customer books a session") as root:
            done = (await m.bookings.CreateBooking(request, metadata=tuple(inject().items()))).booking
        assert done.payment_status == bpb.PAYMENT_STATUS_PAID
    finally:
        await loyalty.close()

    async def consumed():
        spans = spans_of(exported_spans, root)
        return spans if consumer_events(spans, "novatrek.loyalty") else None

    spans = await eventually(consumed, timeout_s=20)
    named = {(s.instrumentation_scope.name, s.kind, s.name) for s in spans}
    assert {
        ("novatrek.bookings", SERVER, "novatrek.bookings.v1.BookingService/CreateBooking"),
        ("novatrek.loyalty", CONSUMER, "novatrek.activities.booking.paid process"),
    } <= named, named
    assert not orphans(spans, root), orphans(spans, root)


async def test_loyalty_and_network_metrics_show_rpcs_consumers_and_outboxes(
    make_database, nats_url, businesses_service, businesses_stub
):
    ports = {"loyalty": free_port(), "partner-network": free_port()}
    own = {"nats_url": nats_url, "metrics_interval_s": 0.2}
    loyalty_db = await fresh_database(make_database, "loyalty", "loyalty_metrics")
    network_db = await fresh_database(make_database, "partner-network", "network_metrics")
    loyalty = await serve(build_loyalty, LoyaltySettings, loyalty_db, metrics_port=ports["loyalty"], **own)
    network = await serve(
        build_network, NetworkSettings, network_db, metrics_port=ports["partner-network"],
        businesses_addr=businesses_service.address, loyalty_addr=loyalty.address, **own,
    )  # fmt: skip
    try:
        network_stub = network_pb2_grpc.PartnerNetworkServiceStub(network.channel)
        loyalty_stub = loyalty_pb2_grpc.LoyaltyServiceStub(loyalty.channel)
        net, _, b, guest = await coalition(network_stub, businesses_stub, loyalty_stub, 50)
        await network_stub.RedeemAcrossNetwork(redeem(net, guest, b, 20))
        paid = booking_events.BookingPaid(booking_id=str(uuid.uuid4()), company_id=b, guest_id=guest)
        paid.amount.CopyFrom(money_pb2.Money(currency_code="EUR", units=3))
        await Published.send(nats_url, paid)  # one of loyalty's consumers takes it from NATS
        rpc = 'novatrek_rpc_server_requests_total{code="OK",method="/novatrek.%s",service="%s"}'
        durable = 'novatrek_consumer_pending_messages{durable="loyalty-%s",service="loyalty"}'
        await scrape(
            ports["loyalty"],
            rpc % ("loyalty.v1.LoyaltyService/EarnPoints", "loyalty"),
            rpc % ("loyalty.v1.LoyaltyService/GetLoyaltyAccount", "loyalty"),
            rpc % ("loyalty.v1.LoyaltyService/RedeemPoints", "loyalty"),
            *(durable % d for d in ("reservation-status", "booking-paid", "booking-cancelled")),
            *(durable % d for d in ("order-completed", "order-cancelled")),
            'novatrek_events_handled_total{durable="loyalty-booking-paid",outcome="applied",service="loyalty"}',
            'novatrek_outbox_pending_events{service="loyalty"}',
            'novatrek_outbox_lag_seconds{service="loyalty"}',
            'novatrek_work_total{origin="background",service="loyalty",unit="publish"}',
        )
        await scrape(
            ports["partner-network"],
            rpc % ("network.v1.PartnerNetworkService/CreateNetwork", "partner-network"),
            rpc % ("network.v1.PartnerNetworkService/AcceptInvitation", "partner-network"),
            rpc % ("network.v1.PartnerNetworkService/RedeemAcrossNetwork", "partner-network"),
            'novatrek_outbox_pending_events{service="partner-network"}',
            'novatrek_outbox_lag_seconds{service="partner-network"}',
            'novatrek_work_total{origin="background",service="partner-network",unit="publish"}',
            'novatrek_db_pool_connections{service="partner-network",state="open"}',
        )
    finally:
        await network.stop()
        await loyalty.stop()
