"""Payment and payout rules, and the deterministic fake processor (pure Python)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import InvalidArgument, Unavailable
from services.payments.domain import (
    Charge,
    ChargeRequest,
    CommissionClaim,
    CommissionPayout,
    Payment,
    PaymentStatus,
    PayoutStatus,
)
from services.payments.processor import FakeProcessor, processor_named

NOW = datetime(2025, 5, 1, 12, tzinfo=UTC)


def charge_request(method: str = "tok_visa", **overrides) -> ChargeRequest:
    return ChargeRequest(
        **{
            "request_id": uuid.uuid4(),
            "reservation_id": uuid.uuid4(),
            "amount": Decimal("10.50"),
            "currency": "USD",
            "method_reference": method,
            **overrides,
        }
    )


def claim(**overrides) -> CommissionClaim:
    fields = {
        "commission_record_id": uuid.uuid4(),
        "partner_id": uuid.uuid4(),
        "partner_booking_id": uuid.uuid4(),
        "reservation_id": uuid.uuid4(),
        "amount": Decimal("12.34"),
        "currency": "EUR",
    }
    return CommissionClaim(**{**fields, **overrides})


def test_a_payment_answers_its_own_retry_with_an_equal_amount():
    request = charge_request()
    payment = Payment.processed(request, Charge(True, "fake_1"), NOW)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.answering(replace(request, amount=Decimal("10.5"))) is payment  # 10.5 == 10.50


@pytest.mark.parametrize(
    "change",
    [
        {"amount": Decimal("10.51")},
        {"currency": "EUR"},
        {"reservation_id": uuid.uuid4()},
        {"method_reference": "tok_other"},
    ],
)
def test_the_request_id_reused_for_another_payment_is_refused(change):
    request = charge_request()
    payment = Payment.processed(request, Charge(False, "fake_1", "insufficient_funds"), NOW)
    with pytest.raises(InvalidArgument) as err:
        payment.answering(replace(request, **change))
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED" and err.value.metadata == {
        "request_id": str(request.request_id)
    }


def test_a_payout_is_owed_then_reversed_once():
    payout = CommissionPayout.owed(claim(), NOW)
    assert payout.status is PayoutStatus.OWED and not payout.is_tombstone and payout.reversed_at is None
    reversed_ = payout.reversed("booking cancelled", NOW + timedelta(minutes=1))
    assert (reversed_.status, reversed_.reversal_reason, reversed_.reversed_at) == (
        PayoutStatus.REVERSED,
        "booking cancelled",
        NOW + timedelta(minutes=1),
    )
    assert reversed_.reversed("again", NOW + timedelta(hours=1)) is reversed_


def test_a_payout_answers_its_claim_and_refuses_another():
    c = claim()
    payout = CommissionPayout.owed(c, NOW)
    assert payout.claimed_by(c, NOW + timedelta(seconds=5)) is payout
    for change in ({"amount": Decimal("12.35")}, {"partner_id": uuid.uuid4()}, {"partner_booking_id": uuid.uuid4()}):
        with pytest.raises(InvalidArgument) as err:
            payout.claimed_by(replace(c, **change), NOW)
        assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"


def test_a_tombstone_turns_a_late_claim_into_a_reversed_payout():
    c = claim()
    tomb = CommissionPayout.tombstone(c.commission_record_id, "cancelled first", NOW)
    assert tomb.is_tombstone and tomb.status is PayoutStatus.REVERSED
    assert tomb.reversed("again", NOW + timedelta(hours=1)) is tomb
    later = NOW + timedelta(seconds=3)
    payout = tomb.claimed_by(c, later)
    assert (payout.claim, payout.status, payout.reversal_reason, payout.reversed_at, payout.created_at) == (
        c,
        PayoutStatus.REVERSED,
        "cancelled first",
        NOW,
        later,
    )
    assert payout.claimed_by(c, later + timedelta(seconds=1)) is payout


async def test_fake_processor_is_deterministic_per_request_id():
    processor, request = FakeProcessor(), charge_request()
    first, again = await processor.charge(request), await processor.charge(request)
    assert first == again and first.succeeded and first.processor_reference.startswith("fake_")
    other = await processor.charge(charge_request())
    assert other.processor_reference != first.processor_reference


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ("decline", "insufficient_funds"),
        ("decline_expired_card", "expired_card"),
        ("DECLINE-do_not_honor", "do_not_honor"),
    ],
)
async def test_fake_processor_declines_with_a_reason(method, reason):
    charge = await FakeProcessor().charge(charge_request(method))
    assert (charge.succeeded, charge.decline_reason) == (False, reason) and charge.processor_reference.startswith(
        "fake_"
    )


async def test_fake_processor_outage_is_unavailable_with_a_retry_hint():
    with pytest.raises(Unavailable) as err:
        await FakeProcessor().charge(charge_request("fail_timeout"))
    assert err.value.reason == "PROCESSOR_UNAVAILABLE" and err.value.retry_after_s > 0


def test_processors_are_chosen_by_name():
    assert isinstance(processor_named("fake"), FakeProcessor)
    with pytest.raises(ValueError, match="unknown payment processor"):
        processor_named("stripe-live")
