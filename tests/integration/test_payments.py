"""PaymentService through the real server, stubs, PostgreSQL and NATS."""

import asyncio
import uuid

import grpc
import nats
import pytest
import sqlalchemy as sa
from google.type import money_pb2
from novatrek.payments.v1 import events_pb2, payments_pb2_grpc
from novatrek.payments.v1 import payments_pb2 as pb

from services.cli.embedded import free_port
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from tests.helpers import fails
from tests.integration.conftest import fresh_database, serve

PROCESSED = "novatrek.support.payment.processed"


def money(units: int = 10, nanos: int = 500_000_000, currency: str = "USD") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def payment_request(method: str = "tok_visa_4242", **overrides) -> pb.ProcessPaymentRequest:
    fields = {
        "request_id": str(uuid.uuid4()),
        "reservation_id": str(uuid.uuid4()),
        "amount": money(),
        "method_reference": method,
    }
    return pb.ProcessPaymentRequest(**{**fields, **overrides})


def commission_request(**overrides) -> pb.ProcessCommissionRequest:
    ids = {
        name: str(uuid.uuid4())
        for name in ("commission_record_id", "partner_id", "partner_booking_id", "reservation_id")
    }
    return pb.ProcessCommissionRequest(**{**ids, "amount": money(15, 0, "EUR"), **overrides})


async def count(engine, table: str, where: str = "true", **params) -> int:
    async with engine.connect() as conn:
        return (
            await conn.execute(sa.text(f"SELECT count(*) FROM payments.{table} WHERE {where}"), params)
        ).scalar_one()


async def test_a_payment_succeeds_and_reads_back(payments_stub):
    request = payment_request()
    payment = (await payments_stub.ProcessPayment(request)).payment
    assert payment.status == pb.PAYMENT_STATUS_SUCCEEDED and payment.processor_reference.startswith("fake_")
    assert (payment.reservation_id, payment.amount, payment.method_reference) == (
        request.reservation_id,
        request.amount,
        request.method_reference,
    )
    assert not payment.decline_reason and payment.create_time.seconds > 0
    assert (await payments_stub.GetPayment(pb.GetPaymentRequest(payment_id=payment.payment_id))).payment == payment


async def test_a_decline_is_recorded_and_returned(payments_stub):
    payment = (
        await payments_stub.ProcessPayment(payment_request("decline_expired_card", amount=money(4200, 0, "JPY")))
    ).payment
    assert (payment.status, payment.decline_reason) == (pb.PAYMENT_STATUS_DECLINED, "expired_card")
    assert (await payments_stub.GetPayment(pb.GetPaymentRequest(payment_id=payment.payment_id))).payment == payment


async def test_retries_and_concurrent_twins_store_one_payment(payments_stub, payments_service):
    request = payment_request()
    answers = await asyncio.gather(*(payments_stub.ProcessPayment(request) for _ in range(20)))
    assert (
        len({a.payment.payment_id for a in answers}) == 1 and len({a.payment.SerializeToString() for a in answers}) == 1
    )
    assert (await payments_stub.ProcessPayment(request)).payment == answers[0].payment
    assert (
        await count(payments_service.runtime.engine, "payments", "request_id = :r", r=uuid.UUID(request.request_id))
        == 1
    )
    for change in (
        {"amount": money(10, 510_000_000)},
        {"reservation_id": str(uuid.uuid4())},
        {"method_reference": "tok_other"},
    ):
        reused = payment_request(
            **{"request_id": request.request_id, "reservation_id": request.reservation_id, **change}
        )
        failure = await fails(payments_stub.ProcessPayment(reused))
        assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"request_id": ""}, {"request_id"}),
        ({"request_id": "not-a-uuid"}, {"request_id"}),
        ({"reservation_id": ""}, {"reservation_id"}),
        ({"reservation_id": "42"}, {"reservation_id"}),
        ({"amount": None}, {"amount"}),
        ({"amount": money(currency="XXX")}, {"amount.currency_code"}),
        ({"amount": money(currency="")}, {"amount.currency_code"}),
        ({"amount": money(1, 1_000_000_000)}, {"amount.nanos"}),
        ({"amount": money(1, -500_000_000)}, {"amount.nanos"}),
        ({"amount": money(10, 555_000_000)}, {"amount.nanos"}),
        ({"amount": money(100, 500_000_000, "JPY")}, {"amount.nanos"}),
        ({"amount": money(0, 0)}, {"amount"}),
        ({"amount": money(-5, 0)}, {"amount"}),
        ({"amount": money(10_000_000_000, 0)}, {"amount"}),
        ({"method_reference": ""}, {"method_reference"}),
        ({"method_reference": "   "}, {"method_reference"}),
        ({"method_reference": "t" * 65}, {"method_reference"}),
        ({"method_reference": "4242 4242 4242 4242"}, {"method_reference"}),
        (
            {"request_id": "x", "reservation_id": "", "amount": money(currency="ZZZ"), "method_reference": ""},
            {"request_id", "reservation_id", "amount.currency_code", "method_reference"},
        ),
    ],
)
async def test_bad_payment_requests_name_every_violated_field(payments_stub, overrides, fields):
    failure = await fails(payments_stub.ProcessPayment(payment_request(**overrides)))
    assert (failure.code, failure.reason, set(failure.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        fields,
    )


async def test_get_payment_bad_id_and_not_found(payments_stub):
    failure = await fails(payments_stub.GetPayment(pb.GetPaymentRequest(payment_id="nope")))
    assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {"payment_id"})
    failure = await fails(payments_stub.GetPayment(pb.GetPaymentRequest(payment_id=str(uuid.uuid4()))))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND")


async def test_processor_outage_is_unavailable_and_writes_nothing(make_database):
    # NATS unreachable on purpose: outbox rows stay put, so "no outbox row" is really observable.
    database = await fresh_database(make_database, "payments", "payments_outage")
    running = await serve(build_payments, PaymentSettings, database, nats_url=f"nats://127.0.0.1:{free_port()}")
    stub, engine = payments_pb2_grpc.PaymentServiceStub(running.channel), running.runtime.engine
    try:
        await stub.ProcessPayment(payment_request())
        assert (await count(engine, "payments"), await count(engine, "outbox")) == (1, 1)  # the control: rows are kept
        request = payment_request("fail_gateway_timeout")
        failure = await fails(stub.ProcessPayment(request))
        assert (failure.code, failure.reason) == (
            grpc.StatusCode.UNAVAILABLE,
            "PROCESSOR_UNAVAILABLE",
        ) and failure.retry_delay_s > 0
        assert (await count(engine, "payments"), await count(engine, "outbox")) == (1, 1)
        request.method_reference = "tok_retry"  # nothing stored under the key, so it is still free
        assert (await stub.ProcessPayment(request)).payment.status == pb.PAYMENT_STATUS_SUCCEEDED
    finally:
        await running.stop()


async def test_processed_event_reaches_nats_with_cloudevents_headers(payments_stub, nats_url):
    nc = await nats.connect(nats_url)
    inbox: asyncio.Queue = asyncio.Queue()
    await nc.subscribe(PROCESSED, cb=inbox.put)
    try:
        payment = (await payments_stub.ProcessPayment(payment_request("decline"))).payment
        while True:
            msg = await asyncio.wait_for(inbox.get(), 10)
            event = events_pb2.PaymentProcessed.FromString(msg.data)
            if event.payment_id == payment.payment_id:
                break
        assert (event.reservation_id, event.amount, event.status, event.occur_time) == (
            payment.reservation_id,
            payment.amount,
            pb.PAYMENT_STATUS_DECLINED,
            payment.create_time,
        )
        assert msg.headers["ce-type"] == "novatrek.support.payment.processed.v1"
        assert msg.headers["ce-source"] == "//novatrek.io/payments"
        assert msg.headers["Nats-Msg-Id"] == msg.headers["ce-id"] and msg.headers["ce-time"]
    finally:
        await nc.close()


async def test_commission_is_owed_idempotently_then_reversed_once(payments_stub):
    request = commission_request()
    payout = (await payments_stub.ProcessCommission(request)).payout
    assert (payout.status, payout.amount, payout.partner_id) == (
        pb.PAYOUT_STATUS_OWED,
        request.amount,
        request.partner_id,
    )
    assert not payout.HasField("reverse_time")
    assert (await payments_stub.ProcessCommission(request)).payout == payout
    for change in (
        {"amount": money(16, 0, "EUR")},
        {"partner_id": str(uuid.uuid4())},
        {"partner_booking_id": str(uuid.uuid4())},
    ):
        failure = await fails(payments_stub.ProcessCommission(commission_request(**{**_ids(request), **change})))
        assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    reverse = pb.ReverseCommissionRequest(commission_record_id=request.commission_record_id, reason="booking cancelled")
    reversed_ = (await payments_stub.ReverseCommission(reverse)).payout
    assert (reversed_.payout_id, reversed_.status, reversed_.reversal_reason) == (
        payout.payout_id,
        pb.PAYOUT_STATUS_REVERSED,
        "booking cancelled",
    )
    assert reversed_.HasField("reverse_time")
    reverse.reason = "said twice"
    assert (await payments_stub.ReverseCommission(reverse)).payout == reversed_
    assert (await payments_stub.ProcessCommission(request)).payout == reversed_


def _ids(request: pb.ProcessCommissionRequest) -> dict:
    return {
        name: getattr(request, name)
        for name in ("commission_record_id", "partner_id", "partner_booking_id", "reservation_id")
    }


async def test_reverse_before_process_leaves_a_tombstone(payments_stub):
    request = commission_request()
    reverse = pb.ReverseCommissionRequest(
        commission_record_id=request.commission_record_id, reason="cancelled before payout"
    )
    assert not (await payments_stub.ReverseCommission(reverse)).HasField("payout")
    assert not (await payments_stub.ReverseCommission(reverse)).HasField("payout")
    assert (await payments_stub.ListPayouts(pb.ListPayoutsRequest(partner_id=request.partner_id))).payouts == []
    payout = (await payments_stub.ProcessCommission(request)).payout
    assert (payout.status, payout.reversal_reason, payout.amount) == (
        pb.PAYOUT_STATUS_REVERSED,
        "cancelled before payout",
        request.amount,
    )
    assert (await payments_stub.ListPayouts(pb.ListPayoutsRequest(partner_id=request.partner_id))).payouts == [payout]


async def test_racing_process_and_reverse_settle_on_one_reversed_payout(payments_stub, payments_service):
    request = commission_request()
    answers = await asyncio.gather(*(payments_stub.ProcessCommission(request) for _ in range(20)))
    assert len({a.payout.payout_id for a in answers}) == 1
    records = [commission_request() for _ in range(10)]
    reverse = lambda r: payments_stub.ReverseCommission(
        pb.ReverseCommissionRequest(commission_record_id=r.commission_record_id)
    )
    await asyncio.gather(*(call for r in records for call in (payments_stub.ProcessCommission(r), reverse(r))))
    for r in records:
        assert (await payments_stub.ProcessCommission(r)).payout.status == pb.PAYOUT_STATUS_REVERSED
    ids = [uuid.UUID(r.commission_record_id) for r in [request, *records]]
    assert (
        await count(payments_service.runtime.engine, "commission_payouts", "commission_record_id = ANY(:ids)", ids=ids)
        == 11
    )


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"commission_record_id": ""}, {"commission_record_id"}),
        ({"partner_id": "p-1"}, {"partner_id"}),
        ({"partner_booking_id": ""}, {"partner_booking_id"}),
        ({"reservation_id": "r"}, {"reservation_id"}),
        ({"amount": None}, {"amount"}),
        ({"amount": money(-1, 0, "EUR")}, {"amount"}),
        ({"amount": money(1, 5_000_000, "EUR")}, {"amount.nanos"}),
        ({"amount": money(1, 0, "EURO")}, {"amount.currency_code"}),
    ],
)
async def test_bad_commission_requests_name_every_violated_field(payments_stub, overrides, fields):
    failure = await fails(payments_stub.ProcessCommission(commission_request(**overrides)))
    assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


async def test_a_free_commission_is_recorded_and_bad_reversals_are_refused(payments_stub):
    assert (
        await payments_stub.ProcessCommission(commission_request(amount=money(0, 0, "EUR")))
    ).payout.status == pb.PAYOUT_STATUS_OWED
    for request, fields in (
        (pb.ReverseCommissionRequest(commission_record_id="x"), {"commission_record_id"}),
        (pb.ReverseCommissionRequest(commission_record_id=str(uuid.uuid4()), reason="r" * 501), {"reason"}),
    ):
        failure = await fails(payments_stub.ReverseCommission(request))
        assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


async def test_list_payouts_pages_newest_first_with_filters(payments_stub):
    partner = str(uuid.uuid4())
    made = [(await payments_stub.ProcessCommission(commission_request(partner_id=partner))).payout for _ in range(27)]
    await payments_stub.ProcessCommission(commission_request())  # another partner's
    await payments_stub.ReverseCommission(
        pb.ReverseCommissionRequest(commission_record_id=made[0].commission_record_id)
    )
    first = await payments_stub.ListPayouts(pb.ListPayoutsRequest(partner_id=partner))
    second = await payments_stub.ListPayouts(
        pb.ListPayoutsRequest(partner_id=partner, page_token=first.next_page_token)
    )
    assert len(first.payouts) == 25 and [p.payout_id for p in second.payouts] == [made[1].payout_id, made[0].payout_id]
    assert [p.payout_id for p in [*first.payouts, *second.payouts]] == [p.payout_id for p in reversed(made)]
    assert not second.next_page_token and second.payouts[1].status == pb.PAYOUT_STATUS_REVERSED
    owed = await payments_stub.ListPayouts(
        pb.ListPayoutsRequest(partner_id=partner, status=pb.PAYOUT_STATUS_OWED, page_size=100)
    )
    assert len(owed.payouts) == 26 and not owed.next_page_token
    reversed_ = await payments_stub.ListPayouts(
        pb.ListPayoutsRequest(partner_id=partner, status=pb.PAYOUT_STATUS_REVERSED)
    )
    assert [p.payout_id for p in reversed_.payouts] == [made[0].payout_id]
    token = (await payments_stub.ListPayouts(pb.ListPayoutsRequest(page_size=1))).next_page_token
    assert token
    for request, field in (
        (pb.ListPayoutsRequest(partner_id=partner, page_token=token), "page_token"),
        (pb.ListPayoutsRequest(page_token=token + "x"), "page_token"),
        (pb.ListPayoutsRequest(page_size=101), "page_size"),
        (pb.ListPayoutsRequest(page_size=-1), "page_size"),
        (pb.ListPayoutsRequest(status=9), "status"),
        (pb.ListPayoutsRequest(partner_id="nope"), "partner_id"),
    ):
        failure = await fails(payments_stub.ListPayouts(request))
        assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {field})
