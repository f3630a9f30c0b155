"""The chassis JSON codec of typed states: exact round trips through real JSON, no floats."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.chassis.typedjson import from_json, to_json
from services.partners.domain import Basis, BookingStatus, CommissionPlan, PartnerBooking


def through_json(kind, value):
    return from_json(kind, json.loads(json.dumps(to_json(value))))


def test_a_booking_round_trips_exactly():
    booking = PartnerBooking(
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "CODE", "OTA-1", uuid.uuid4(), uuid.uuid4(), date(2030, 2, 28), 3,
        BookingStatus.CANCELLED, Decimal("299.980"), Decimal("30.00"), Decimal("0.10000"), "USD",
        datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC), None,
    )  # fmt: skip
    again = through_json(PartnerBooking, booking)
    assert again == booking and str(again.gross_amount) == "299.980" and again.status is BookingStatus.CANCELLED


@dataclass(frozen=True)
class Later:
    plan: CommissionPlan
    tiers: tuple[Decimal, ...] = ()
    note: str | None = None


def test_classes_code_themselves_tuples_and_defaults_fill_what_an_older_document_lacks():
    plan = CommissionPlan.parse(Basis.GROSS_VALUE, [("0", "0.1"), ("1000", "0.125")])
    assert through_json(Later, Later(plan, (Decimal("1.5"),), "n")) == Later(plan, (Decimal("1.5"),), "n")
    assert from_json(Later, {"plan": plan.to_json()}) == Later(plan)


def test_floats_and_mistyped_values_are_refused():
    with pytest.raises(TypeError):
        to_json(Later(CommissionPlan(Basis.BOOKING_COUNT, ()), note=1.5))
    with pytest.raises(TypeError):
        from_json(Later, {"plan": {"basis": "booking_count", "tiers": []}, "note": 3})
