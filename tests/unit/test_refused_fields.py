"""A refused required field gets exactly its own violation: the placeholder its parser returns
(protoconv.REFUSED_DATE) never reaches a check that compares it (not in the past, date ranges)."""

import asyncio

import pytest
from google.type import date_pb2
from novatrek.catalog.v1 import catalog_pb2
from novatrek.partners.v1 import partners_pb2
from novatrek.reservations.v1 import reservations_pb2

from services.catalog.servicer import CatalogServicer
from services.chassis.errors import FieldViolation, InvalidArgument
from services.chassis.pagination import PageTokens
from services.partners.auth import Authenticator
from services.partners.servicer import PartnerServicer
from services.reservations.servicer import ReservationServicer

FEB_30 = date_pb2.Date(year=2999, month=2, day=30)
TOKENS = PageTokens("test")
TRIP = "7f7c6b8e-0a4e-4c61-9d0c-3c1f1f6a2b10"


class AdminContext:
    def invocation_metadata(self):
        return [("authorization", "Bearer admin")]


def _violations(call) -> list[FieldViolation]:
    with pytest.raises(InvalidArgument) as refused:
        asyncio.run(call)
    return refused.value.violations


def test_an_invalid_departure_date_is_not_also_in_the_past():
    request = catalog_pb2.CreateDepartureRequest(
        departure=catalog_pb2.Departure(trip_id=TRIP, departure_date=FEB_30, capacity=10)
    )
    violations = _violations(CatalogServicer(None, TOKENS).CreateDeparture(request, None))
    assert violations == [FieldViolation("departure.departure_date", "is not a valid calendar date")]


def test_a_missing_trip_date_is_not_also_in_the_past():
    request = reservations_pb2.CreateReservationRequest(
        request_id=TRIP, guest_id=TRIP, trip_id=TRIP, party_size=2, currency_code="EUR"
    )
    violations = _violations(ReservationServicer(None, TOKENS).CreateReservation(request, None))
    assert violations == [FieldViolation("trip_date", "is required")]


@pytest.mark.parametrize(
    ("start", "end", "field", "description"),
    [
        (None, date_pb2.Date(year=2025, month=1, day=1), "start_date", "is required"),
        (date_pb2.Date(year=2025, month=1, day=1), FEB_30, "end_date", "is not a valid calendar date"),
    ],
)
def test_a_refused_reconciliation_bound_is_not_compared(start, end, field, description):
    servicer = PartnerServicer(None, Authenticator(None, b"", "admin"), TOKENS, 1.0)
    request = partners_pb2.ReconcilePartnerBookingsRequest(start_date=start, end_date=end)
    violations = _violations(servicer.ReconcilePartnerBookings(request, AdminContext()))
    assert violations == [FieldViolation(field, description)]
