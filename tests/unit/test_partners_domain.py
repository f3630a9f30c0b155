"""Commission tiers, API keys, reconciliation rules (pure)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import InvalidArgument
from services.partners.domain import (
    Basis,
    BookingStatus,
    CommissionPlan,
    Partner,
    PartnerBooking,
    commission,
    issue_key,
    key_digest,
    split_key,
)
from services.partners.ports import PayoutInfo, ReservationInfo
from services.partners.protomap import rate_text
from services.partners.reconcile import discrepancies_of

PLAN = CommissionPlan.parse(Basis.BOOKING_COUNT, [("0", "0.10"), ("10", "0.12"), ("50", "0.15")])


@pytest.mark.parametrize(
    ("volume", "rate"), [(1, "0.10"), (9, "0.10"), (10, "0.12"), (49, "0.12"), (50, "0.15"), (500, "0.15")]
)
def test_tier_boundaries_are_inclusive_from_the_threshold(volume, rate):
    assert PLAN.rate_for(Decimal(volume)) == Decimal(rate)


def test_commission_is_decimal_rounded_half_even_to_the_minor_unit():
    assert commission(Decimal("100.25"), Decimal("0.10"), "USD") == Decimal("10.02")  # 10.025 -> 10.02
    assert commission(Decimal("100.35"), Decimal("0.10"), "USD") == Decimal("10.04")  # 10.035 -> 10.04
    assert commission(Decimal("1005"), Decimal("0.1"), "JPY") == Decimal("100")  # 100.5 -> 100


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        [("5", "0.1")],
        [("0", "0.1"), ("0", "0.2")],
        [("0", "1.5")],
        [("0", "abc")],
        [("0", "NaN")],
        [("sNaN", "0.1")],
        [("0", "0.1"), ("NaN", "0.2")],
        [("0", "0.1"), ("Infinity", "0.2")],
        [("0", "0.123456")],
        [("0", "1E-999999999")],
    ],
)
def test_bad_plans_are_refused_with_field_violations(tiers):
    with pytest.raises(InvalidArgument) as err:
        CommissionPlan.parse(Basis.GROSS_VALUE, tiers)
    assert all(v.field.startswith("partner.commission_plan") for v in err.value.violations)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("0.10", "0.10"), ("0.10000", "0.10"), ("1.00000", "1.00"), ("0.12500", "0.125"), ("0.00001", "0.00001")],
)
def test_a_rate_reads_the_same_from_the_plan_and_from_the_database(stored, shown):
    assert rate_text(Decimal(stored)) == shown


def test_plan_survives_json():
    assert CommissionPlan.from_json(PLAN.to_json()) == PLAN


def _partner(key, pepper=b"p"):
    return Partner(
        uuid.uuid4(), "P", "p@x.io", "", "s", PLAN, key.key_id, key_digest(pepper, key.plaintext), datetime.now(UTC)
    )


def test_keys_are_verified_by_hmac_and_rotation_keeps_the_old_key_for_the_grace_period():
    old, new, now = issue_key(), issue_key(), datetime.now(UTC)
    partner = _partner(old)
    assert split_key(old.plaintext) == old.key_id and split_key("ntk_short_x") is None
    assert partner.accepts(old.key_id, key_digest(b"p", old.plaintext), now)
    assert not partner.accepts(old.key_id, key_digest(b"other-pepper", old.plaintext), now)
    rotated = partner.rotated(new, key_digest(b"p", new.plaintext), now, timedelta(hours=24))
    assert rotated.accepts(new.key_id, key_digest(b"p", new.plaintext), now)
    assert rotated.accepts(old.key_id, key_digest(b"p", old.plaintext), now + timedelta(hours=23))
    assert not rotated.accepts(old.key_id, key_digest(b"p", old.plaintext), now + timedelta(hours=24, seconds=1))


def _booking(status=BookingStatus.CONFIRMED):
    return PartnerBooking(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        "ABCDEFGHJKMN",
        "",
        uuid.uuid4(),
        uuid.uuid4(),
        date.today(),
        2,
        status,
        Decimal("200.00"),
        Decimal("20.00"),
        Decimal("0.1"),
        "USD",
        datetime.now(UTC),
    )


def test_reconciliation_finds_each_kind_of_discrepancy():
    b = _booking()
    ok = ReservationInfo(b.reservation_id, b.confirmation_code, "confirmed", Decimal("200.00"), "USD")
    owed = PayoutInfo(b.commission_record_id, Decimal("20.00"), "owed")
    assert discrepancies_of(b, ok, owed) == []
    kinds = lambda r, p, booking=b: [d.kind for d in discrepancies_of(booking, r, p)]
    assert kinds(None, owed) == ["RESERVATION_MISSING"]
    assert kinds(ReservationInfo(b.reservation_id, "", "cancelled", Decimal("200.00"), "USD"), owed) == [
        "STATUS_MISMATCH"
    ]
    assert kinds(ReservationInfo(b.reservation_id, "", "confirmed", Decimal("210.00"), "USD"), owed) == [
        "AMOUNT_MISMATCH"
    ]
    assert kinds(ok, None) == ["PAYOUT_MISSING"]
    assert kinds(ok, PayoutInfo(b.commission_record_id, Decimal("20.00"), "reversed")) == ["PAYOUT_MISSING"]
    assert kinds(ok, PayoutInfo(b.commission_record_id, Decimal("19.99"), "owed")) == ["PAYOUT_AMOUNT_MISMATCH"]
    cancelled = _booking(BookingStatus.CANCELLED)
    gone = ReservationInfo(cancelled.reservation_id, "", "cancelled", Decimal("200.00"), "USD")
    assert kinds(gone, PayoutInfo(cancelled.commission_record_id, Decimal("20.00"), "owed"), cancelled) == [
        "PAYOUT_NOT_REVERSED"
    ]
