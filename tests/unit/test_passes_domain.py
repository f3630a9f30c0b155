"""The pass rules: coverage, expiry, and why a consume is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.passes.domain import (
    Entitlement,
    PassProduct,
    SessionUse,
    Usage,
    UsageStatus,
    consume_refusal,
    replayed_usage,
)

NOW = datetime(2031, 5, 1, 9, tzinfo=UTC)
YOGA = uuid.UUID(int=1)


def product(activities=()) -> PassProduct:
    return PassProduct(uuid.uuid4(), uuid.uuid4(), "Pass", 2, 10, tuple(activities), Decimal("10.00"), "EUR", NOW)


def entitlement(activities=(), remaining: int = 2) -> Entitlement:
    e = Entitlement.issued(uuid.uuid4(), product(activities), uuid.uuid4(), NOW)
    return Entitlement(**{**vars(e), "sessions_remaining": remaining})


def use(e: Entitlement, activity=YOGA, start=NOW + timedelta(days=1)) -> SessionUse:
    return SessionUse(e.entitlement_id, uuid.uuid4(), e.customer_id, activity, start)


def test_issued_entitlements_cover_the_product():
    e = entitlement()
    assert e.expire_time == NOW + timedelta(days=10) and e.covers(uuid.uuid4()), "no activities: all of them"
    assert entitlement((YOGA,)).covers(YOGA) and not entitlement((YOGA,)).covers(uuid.uuid4())
    assert not e.expired(NOW) and e.expired(e.expire_time)


def test_same_request_compares_everything_asked():
    p = product()
    assert p.same_request(PassProduct(**{**vars(p), "product_id": uuid.uuid4(), "created_at": NOW}))
    assert not p.same_request(PassProduct(**{**vars(p), "price": Decimal("11.00")}))


@pytest.mark.parametrize(
    ("e_kw", "use_kw", "now", "reason"),
    [
        ({}, {"start": NOW + timedelta(days=10)}, NOW, "ENTITLEMENT_EXPIRED"),
        ({}, {}, NOW + timedelta(days=10), "ENTITLEMENT_EXPIRED"),
        ({"activities": (YOGA,)}, {"activity": uuid.UUID(int=2)}, NOW, "ENTITLEMENT_NOT_APPLICABLE"),
        ({"remaining": 0}, {}, NOW, "ENTITLEMENT_EXHAUSTED"),
    ],
)
def test_refusals_in_order(e_kw, use_kw, now, reason):
    e = entitlement(**e_kw)
    refusal = consume_refusal(e, use(e, **use_kw), now)
    assert isinstance(refusal, FailedPrecondition) and refusal.reason == reason


def test_not_found_for_none_or_another_customer_and_none_when_it_fits():
    e = entitlement()
    assert consume_refusal(None, use(e), NOW).reason == "ENTITLEMENT_NOT_FOUND"
    other = SessionUse(e.entitlement_id, uuid.uuid4(), uuid.uuid4(), YOGA, NOW)
    assert consume_refusal(e, other, NOW).reason == "ENTITLEMENT_NOT_FOUND"
    assert consume_refusal(e, use(e), NOW) is None


def test_replays_answer_the_usage_or_say_why_not():
    e = entitlement()
    cmd = use(e)
    usage = cmd.usage(NOW)
    assert replayed_usage(usage, cmd) == usage
    with pytest.raises(InvalidArgument):
        replayed_usage(usage, SessionUse(e.entitlement_id, cmd.booking_id, e.customer_id, uuid.uuid4(), NOW))
    tomb = Usage(cmd.booking_id, e.entitlement_id, None, None, UsageStatus.TOMBSTONE, NOW, NOW)
    with pytest.raises(FailedPrecondition, match="restored"):
        replayed_usage(tomb, cmd)
