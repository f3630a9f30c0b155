"""Catalog rules (pure Python); the use cases are in test_catalog_handlers.py."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from services.catalog.domain import Departure, Trip, bookable
from services.chassis.errors import FailedPrecondition
from services.chassis.protoconv import utcnow

DAY = date(2031, 7, 1)


def test_hold_adjusts_by_the_delta_and_refuses_what_does_not_fit():
    d = Departure(uuid.uuid4(), DAY, capacity=10, seats_held=6)
    assert d.seats_available == 4
    assert d.hold(already_held=2, wanted=6).seats_held == 10
    assert d.hold(already_held=5, wanted=1).seats_held == 2
    with pytest.raises(FailedPrecondition) as refused:
        d.hold(already_held=2, wanted=7)
    assert (refused.value.reason, refused.value.metadata) == ("SOLD_OUT", {"seats_available": "4"})
    assert d.release(6).seats_held == 0


def test_inactive_trips_are_not_bookable():
    bookable(Trip("Fjords", Decimal("10.00"), "EUR", utcnow()))
    with pytest.raises(FailedPrecondition) as refused:
        bookable(Trip("Fjords", Decimal("10.00"), "EUR", utcnow(), active=False))
    assert refused.value.reason == "TRIP_INACTIVE"
