"""Checkout authorizations through the real server, stubs, PostgreSQL and NATS, with the fake
processor handed in so its side of each authorization can be looked at."""

import asyncio
import functools
import uuid

import grpc
import nats
import pytest
import sqlalchemy as sa
from google.type import money_pb2
from novatrek.orders.v1 import events_pb2 as order_events
from novatrek.payments.v1 import payments_pb2 as pb
from novatrek.payments.v1 import payments_pb2_grpc

from services.chassis.events import spec_of
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.payments.processor import FakeProcessor
from tests.helpers import eventually, fails
from tests.integration.conftest import fresh_database, serve

DEADLINE_S = 0.5


class Authorizing:
    def __init__(self, running, processor: FakeProcessor) -> None:
        self.running, self.processor = running, processor
        self.stub = payments_pb2_grpc.PaymentServiceStub(running.channel)
        self.engine = running.runtime.engine

    async def count(self, table: str, where: str, **params) -> int:
        async with self.engine.connect() as conn:
            query = sa.text(f"SELECT count(*) FROM payments.{table} WHERE {where}")
            return (await conn.execute(query, params)).scalar_one()

    def calls(self, operation: str, checkout_id: str) -> int:
        return self.processor.calls.count((operation, uuid.UUID(checkout_id)))

    def hold(self, checkout_id: str) -> str | None:
        return self.processor.holds.get(uuid.UUID(checkout_id))


@pytest.fixture(scope="module")
async def authorizing(make_database, nats_url):
    processor = FakeProcessor(delay_s=30)  # a `timeout…` hold answers long after our deadline
    running = await serve(
        functools.partial(build_payments, processor=processor),
        PaymentSettings,
        await fresh_database(make_database, "payments", "payments_authorizations"),
        nats_url=nats_url,
        processor_deadline_s=DEADLINE_S,
    )
    yield Authorizing(running, processor)
    await running.stop()


def authorize_request(method: str = "tok_visa_4242", **overrides) -> pb.AuthorizePaymentRequest:
    fields = {
        "checkout_id": str(uuid.uuid4()),
        "guest_id": str(uuid.uuid4()),
        "amount": money_pb2.Money(currency_code="EUR", units=129, nanos=900_000_000),
        "method_reference": method,
    }
    return pb.AuthorizePaymentRequest(**{**fields, **overrides})


async def authorize(a: Authorizing, method: str = "tok_visa_4242") -> pb.Authorization:
    return (await a.stub.AuthorizePayment(authorize_request(method))).authorization


async def capture(a: Authorizing, authorization: pb.Authorization) -> pb.Authorization:
    request = pb.CapturePaymentRequest(authorization_id=authorization.authorization_id)
    return (await a.stub.CapturePayment(request)).authorization


async def void(a: Authorizing, **address) -> pb.VoidAuthorizationResponse:
    return await a.stub.VoidAuthorization(pb.VoidAuthorizationRequest(**address, reason="order cancelled"))


async def test_an_authorization_holds_and_reads_back(authorizing):
    request = authorize_request()
    held = (await authorizing.stub.AuthorizePayment(request)).authorization
    assert (held.status, held.checkout_id, held.guest_id, held.amount, held.method_reference) == (
        pb.AUTHORIZATION_STATUS_AUTHORIZED,
        request.checkout_id,
        request.guest_id,
        request.amount,
        request.method_reference,
    )
    assert held.processor_reference.startswith("fake_") and held.create_time == held.update_time
    read = await authorizing.stub.GetAuthorization(pb.GetAuthorizationRequest(authorization_id=held.authorization_id))
    assert read.authorization == held and authorizing.hold(request.checkout_id) == "authorized"


async def test_a_decline_is_an_answer(authorizing):
    declined = await authorize(authorizing, "decline_expired_card")
    assert (declined.status, declined.decline_reason) == (pb.AUTHORIZATION_STATUS_DECLINED, "expired_card")
    assert (await void(authorizing, authorization_id=declined.authorization_id)).authorization == declined
    failure = await fails(capture(authorizing, declined))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "AUTHORIZATION_NOT_CAPTURABLE")


async def test_an_outage_is_unavailable_and_stores_nothing(authorizing):
    request = authorize_request("fail_gateway")
    failure = await fails(authorizing.stub.AuthorizePayment(request))
    assert (failure.code, failure.reason) == (grpc.StatusCode.UNAVAILABLE, "PROCESSOR_UNAVAILABLE")
    assert failure.retry_delay_s > 0
    assert await authorizing.count("authorizations", "checkout_id = :c", c=uuid.UUID(request.checkout_id)) == 0
    assert authorizing.hold(request.checkout_id) is None


async def test_a_timeout_is_unavailable_and_the_lost_hold_is_voided_by_checkout_id(authorizing):
    request = authorize_request("timeout_slow_bank")
    failure = await fails(authorizing.stub.AuthorizePayment(request))  # our processor deadline expires
    assert (failure.code, failure.reason) == (grpc.StatusCode.UNAVAILABLE, "PROCESSOR_UNAVAILABLE")
    impatient = authorize_request("timeout_slow_bank")  # the caller's deadline expires first
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await authorizing.stub.AuthorizePayment(impatient, timeout=DEADLINE_S / 5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    for lost in (request, impatient):
        checkout = lost.checkout_id
        await eventually(lambda c=checkout: authorizing.hold(c) == "authorized")  # held at the processor, not by us
        assert await authorizing.count("authorizations", "checkout_id = :c", c=uuid.UUID(checkout)) == 0
        assert not (await void(authorizing, checkout_id=checkout)).HasField("authorization")
        assert authorizing.hold(checkout) == "voided"


async def test_an_authorization_after_its_checkouts_void_is_refused_and_voided(authorizing):
    request = authorize_request()
    assert not (await void(authorizing, checkout_id=request.checkout_id)).HasField("authorization")
    for _ in range(2):  # the late AuthorizePayment, and its retry
        failure = await fails(authorizing.stub.AuthorizePayment(request))
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "AUTHORIZATION_VOIDED")
    assert authorizing.hold(request.checkout_id) == "voided"
    async with authorizing.engine.connect() as conn:
        query = "SELECT authorization_id FROM payments.authorizations WHERE checkout_id = :c AND guest_id IS NULL"
        (tombstone,) = (await conn.execute(sa.text(query), {"c": request.checkout_id})).scalars()
    for call in (
        authorizing.stub.GetAuthorization(pb.GetAuthorizationRequest(authorization_id=str(tombstone))),
        authorizing.stub.CapturePayment(pb.CapturePaymentRequest(authorization_id=str(tombstone))),
    ):
        assert (await fails(call)).code == grpc.StatusCode.NOT_FOUND
    assert not (await void(authorizing, authorization_id=str(tombstone))).HasField("authorization")


async def test_twenty_concurrent_twins_store_one_authorization_under_one_processor_key(authorizing):
    request = authorize_request()
    answers = await asyncio.gather(*(authorizing.stub.AuthorizePayment(request) for _ in range(20)))
    assert len({a.authorization.SerializeToString() for a in answers}) == 1
    checkout = uuid.UUID(request.checkout_id)
    assert await authorizing.count("authorizations", "checkout_id = :c", c=checkout) == 1
    keys = {key for operation, key in authorizing.processor.calls if operation == "authorize"}
    assert checkout in keys and authorizing.hold(request.checkout_id) == "authorized"
    assert (await authorizing.stub.AuthorizePayment(request)).authorization == answers[0].authorization
    reused = authorize_request(checkout_id=request.checkout_id, guest_id=request.guest_id, method_reference="tok_x")
    failure = await fails(authorizing.stub.AuthorizePayment(reused))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")


async def test_capture_then_void_refunds_once(authorizing):
    held = await authorize(authorizing)
    captured = await capture(authorizing, held)
    assert captured.status == pb.AUTHORIZATION_STATUS_CAPTURED and captured.update_time.ToDatetime() >= (
        held.update_time.ToDatetime()
    )
    assert await capture(authorizing, held) == captured
    refunded = (await void(authorizing, authorization_id=held.authorization_id)).authorization
    assert refunded.status == pb.AUTHORIZATION_STATUS_REFUNDED
    assert (await void(authorizing, checkout_id=held.checkout_id)).authorization == refunded
    assert (authorizing.calls("capture", held.checkout_id), authorizing.calls("refund", held.checkout_id)) == (1, 1)
    assert authorizing.hold(held.checkout_id) == "refunded"
    failure = await fails(capture(authorizing, held))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "AUTHORIZATION_NOT_CAPTURABLE")


async def test_a_voided_hold_stays_voided_and_is_not_capturable(authorizing):
    held = await authorize(authorizing)
    voided = (await void(authorizing, checkout_id=held.checkout_id)).authorization
    assert voided.status == pb.AUTHORIZATION_STATUS_VOIDED and authorizing.hold(held.checkout_id) == "voided"
    assert (await void(authorizing, authorization_id=held.authorization_id)).authorization == voided
    failure = await fails(capture(authorizing, held))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "AUTHORIZATION_NOT_CAPTURABLE")
    assert authorizing.calls("void", held.checkout_id) == 1


async def test_bad_and_unknown_authorization_requests(authorizing):
    unknown = str(uuid.uuid4())
    for call in (
        authorizing.stub.GetAuthorization(pb.GetAuthorizationRequest(authorization_id=unknown)),
        authorizing.stub.CapturePayment(pb.CapturePaymentRequest(authorization_id=unknown)),
    ):
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "AUTHORIZATION_NOT_FOUND")
    assert not (await void(authorizing, authorization_id=unknown)).HasField("authorization")
    for call, fields in (
        (void(authorizing), {"authorization_id", "checkout_id"}),
        (void(authorizing, authorization_id=unknown, checkout_id=unknown), {"authorization_id", "checkout_id"}),
        (void(authorizing, checkout_id="nope"), {"checkout_id"}),
        (authorizing.stub.CapturePayment(pb.CapturePaymentRequest()), {"authorization_id"}),
        (
            authorizing.stub.AuthorizePayment(authorize_request("4242 4242 4242 4242", checkout_id="x", guest_id="")),
            {"checkout_id", "guest_id", "method_reference"},
        ),
        (authorizing.stub.AuthorizePayment(authorize_request(amount=None)), {"amount"}),
    ):
        failure = await fails(call)
        assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


async def publish_twice(nats_url: str, event) -> str:
    """The same event (one ce-id) published twice, past JetStream's de-duplication."""
    event_id = str(uuid.uuid4())
    nc = await nats.connect(nats_url)
    try:
        for copy in ("first", "again"):
            headers = {"ce-id": event_id, "Nats-Msg-Id": f"{event_id}-{copy}"}
            await nc.jetstream().publish(spec_of(event).subject, event.SerializeToString(), headers=headers, timeout=5)
    finally:
        await nc.close()
    return event_id


async def settled(a: Authorizing, event_id: str, durable: str) -> bool:
    """The event is in the inbox and the consumer has nothing left to (re)deliver."""
    if not await a.count("inbox", "event_id = :e", e=event_id):
        return False
    nc = await nats.connect(a.running.runtime.settings.nats_url)
    try:
        prefix = a.running.runtime.settings.consumer_durable_prefix
        info = await nc.jetstream().consumer_info("NOVATREK_ORDERING", f"{prefix}{durable}")
    finally:
        await nc.close()
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_order_completed_captures_once_even_when_delivered_twice(authorizing, nats_url):
    held = await authorize(authorizing)
    event = order_events.OrderCompleted(
        order_id=str(uuid.uuid4()), checkout_id=held.checkout_id, authorization_id=held.authorization_id
    )
    event_id = await publish_twice(nats_url, event)
    await eventually(lambda: settled(authorizing, event_id, "payments-order-completed"))
    read = await authorizing.stub.GetAuthorization(pb.GetAuthorizationRequest(authorization_id=held.authorization_id))
    assert read.authorization.status == pb.AUTHORIZATION_STATUS_CAPTURED
    assert authorizing.calls("capture", held.checkout_id) == 1
    assert await authorizing.count("inbox", "event_id = :e", e=event_id) == 1


async def test_order_cancelled_refunds_a_capture_and_voids_a_lost_hold_once(authorizing, nats_url):
    captured = await capture(authorizing, await authorize(authorizing))
    lost = authorize_request("timeout_lost")
    await fails(authorizing.stub.AuthorizePayment(lost))
    checkout = lost.checkout_id
    await eventually(lambda: authorizing.hold(checkout) == "authorized")
    events = [
        order_events.OrderCancelled(
            checkout_id=captured.checkout_id, authorization_id=captured.authorization_id, reason="guest cancelled"
        ),
        order_events.OrderCancelled(checkout_id=lost.checkout_id, reason="checkout failed"),
    ]
    for event in events:
        event_id = await publish_twice(nats_url, event)
        await eventually(lambda e=event_id: settled(authorizing, e, "payments-order-cancelled"))
    read = await authorizing.stub.GetAuthorization(
        pb.GetAuthorizationRequest(authorization_id=captured.authorization_id)
    )
    assert read.authorization.status == pb.AUTHORIZATION_STATUS_REFUNDED
    assert (authorizing.calls("refund", captured.checkout_id), authorizing.calls("void", lost.checkout_id)) == (1, 1)
    assert authorizing.hold(lost.checkout_id) == "voided"


async def test_malformed_authorization_ids_are_acknowledged_and_a_cancel_voids_by_checkout(authorizing, nats_url):
    held = await authorize(authorizing)
    completed = order_events.OrderCompleted(order_id=str(uuid.uuid4()), checkout_id=held.checkout_id)
    cancelled = order_events.OrderCancelled(
        checkout_id=held.checkout_id, authorization_id="not-a-uuid", reason="guest cancelled"
    )
    for event, durable in ((completed, "payments-order-completed"), (cancelled, "payments-order-cancelled")):
        event_id = await publish_twice(nats_url, event)
        await eventually(lambda e=event_id, d=durable: settled(authorizing, e, d))
    read = await authorizing.stub.GetAuthorization(pb.GetAuthorizationRequest(authorization_id=held.authorization_id))
    assert read.authorization.status == pb.AUTHORIZATION_STATUS_VOIDED
    assert (authorizing.calls("capture", held.checkout_id), authorizing.calls("void", held.checkout_id)) == (0, 1)
