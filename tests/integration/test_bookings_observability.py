"""A session booking is one connected trace (the caller, bookings and its saga, businesses, catalog,
wallet or payments), a wallet top-up reaches bookings' consumer in the top-up's trace, and /metrics
serves bookings' RPCs, its saga's outcomes and its consumers."""

from __future__ import annotations

import urllib.request

from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.bookings.v1 import bookings_pb2_grpc
from opentelemetry import trace

from services.bookings.config import BookingSettings
from services.bookings.main import build as build_bookings
from services.chassis.telemetry import inject
from services.cli.embedded import free_port
from tests.helpers import eventually
from tests.integration.booking_fixtures import Mesh, booking
from tests.integration.conftest import fresh_database, serve

SERVER, CONSUMER = trace.SpanKind.SERVER, trace.SpanKind.CONSUMER


def _mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service) -> Mesh:
    return Mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)


def _trace(exported_spans, root) -> list:
    return [s for s in exported_spans.get_finished_spans() if s.context.trace_id == root.get_span_context().trace_id]


def _orphans(spans: list, root) -> list[str]:
    ids = {s.context.span_id for s in spans}
    return [s.name for s in spans if s is not root and s.parent is not None and s.parent.span_id not in ids]


async def test_a_booking_is_one_trace_through_bookings_its_saga_and_every_peer(
    exported_spans, bookings_service, catalog_service, businesses_service, passes_service, wallet_service,
    payments_service,
):  # fmt: skip
    m = _mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)
    stub = bookings_pb2_grpc.BookingServiceStub(bookings_service.channel)
    try:
        company, customer = await m.customer()
        session = await m.session(company)
        await m.top_up(company, customer.customer_id, "100")
        with trace.get_tracer("test").start_as_current_span("customer books two seats") as root:
            for payment in (
                {"method": pb.PAYMENT_METHOD_WALLET},
                {"method": pb.PAYMENT_METHOD_CARD, "method_reference": "tok_visa"},
            ):
                request = booking(company, session, customer, **payment)
                done = (await stub.CreateBooking(request, metadata=tuple(inject().items()))).booking
                assert done.status == pb.BOOKING_STATUS_CONFIRMED
    finally:
        await m.close()
    spans = _trace(exported_spans, root)
    servers = {(s.instrumentation_scope.name, s.name) for s in spans if s.kind == SERVER}
    assert {
        ("novatrek.bookings", "novatrek.bookings.v1.BookingService/CreateBooking"),
        ("novatrek.businesses", "novatrek.businesses.v1.BusinessService/ResolveCustomer"),
        ("novatrek.trip-catalog", "novatrek.catalog.v1.CatalogService/GetSession"),
        ("novatrek.trip-catalog", "novatrek.catalog.v1.CatalogService/HoldSessionSeats"),
        ("novatrek.wallet", "novatrek.wallet.v1.WalletService/DebitWallet"),
        ("novatrek.payments", "novatrek.payments.v1.PaymentService/AuthorizePayment"),
        ("novatrek.payments", "novatrek.payments.v1.PaymentService/CapturePayment"),
    } <= servers, servers
    sagas = {s.name: s for s in spans if s.name.startswith("saga ")}
    assert set(sagas) == {"saga booking", "saga booking-card"}
    by_id = {s.context.span_id: s for s in spans}
    holds = [s for s in spans if s.name.endswith("/HoldSessionSeats") and s.kind == trace.SpanKind.CLIENT]
    assert {by_id[h.parent.span_id].name for h in holds} == set(sagas)  # the steps' calls: the saga's
    assert not _orphans(spans, root), _orphans(spans, root)


async def test_a_top_up_reaches_bookings_consumer_in_the_top_ups_trace(
    exported_spans, bookings_service, catalog_service, businesses_service, passes_service, wallet_service,
    payments_service,
):  # fmt: skip
    m = _mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)
    try:
        company, customer = await m.customer()
        with trace.get_tracer("test").start_as_current_span("customer tops up") as root:
            await m.top_up(company, customer.customer_id, "40")
    finally:
        await m.close()

    async def consumed():
        spans = _trace(exported_spans, root)
        return (
            spans
            if any(s.kind == CONSUMER and s.instrumentation_scope.name == "novatrek.bookings" for s in spans)
            else None
        )

    spans = await eventually(consumed, timeout_s=20)
    named = {(s.instrumentation_scope.name, s.kind, s.name) for s in spans}
    assert {
        ("novatrek.wallet", SERVER, "novatrek.wallet.v1.WalletService/TopUpWallet"),
        ("novatrek.bookings", CONSUMER, "novatrek.activities.wallet.topped-up process"),
    } <= named, named
    assert not _orphans(spans, root), _orphans(spans, root)


async def test_bookings_metrics_show_its_rpcs_saga_and_consumers(
    make_database, nats_url, catalog_service, businesses_service, passes_service, wallet_service, payments_service
):
    m = _mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)
    port = free_port()
    database = await fresh_database(make_database, "bookings", "bookings_metrics")
    running = await serve(
        build_bookings, BookingSettings, database, nats_url=nats_url, metrics_port=port, metrics_interval_s=0.2,
        **m.addresses,
    )  # fmt: skip
    stub = bookings_pb2_grpc.BookingServiceStub(running.channel)
    try:
        company, customer = await m.customer()
        session = await m.session(company)
        await m.top_up(company, customer.customer_id, "50")  # one booking paid, the next one short
        for _ in range(2):
            await stub.CreateBooking(booking(company, session, customer, method=pb.PAYMENT_METHOD_WALLET))
        saga = 'novatrek_sagas_total{outcome="%s",saga="booking",service="bookings"}'
        consumer = 'novatrek_consumer_pending_messages{durable="bookings-%s",service="bookings"}'
        await scrape(
            port,
            'novatrek_rpc_server_requests_total{code="OK",method="/novatrek.bookings.v1.BookingService/CreateBooking",'
            'service="bookings"}',
            saga % "completed",
            saga % "compensated",
            'novatrek_saga_duration_seconds_count{saga="booking",service="bookings"}',
            consumer % "session-finished",
            consumer % "wallet-topped-up",
            'novatrek_events_handled_total{durable="bookings-wallet-topped-up",outcome="applied",service="bookings"}',
            'novatrek_outbox_pending_events{service="bookings"}',
        )
    finally:
        await running.stop()
        await m.close()


async def scrape(port: int, *wanted: str) -> str:
    async def body():
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return text if all(w in text for w in wanted) else None

    return await eventually(body, timeout_s=30)
