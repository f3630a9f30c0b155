"""Test data made through the public APIs: guests, trips with departures."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from google.type import money_pb2
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.guests.v1 import guests_pb2 as gst
from novatrek.reservations.v1 import reservations_pb2 as res

from services.chassis.protoconv import date_to_proto


def future_day(days: int = 30) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


async def new_guest(guests_stub) -> str:
    guest = gst.Guest(first_name="Test", last_name="Guest", email=f"g-{uuid.uuid4().hex[:10]}@example.com")
    return (await guests_stub.CreateGuest(gst.CreateGuestRequest(guest=guest))).guest.guest_id


async def new_departure(
    catalog_stub, capacity: int = 20, day: date | None = None, price=(149, 990_000_000)
) -> tuple[str, date]:
    trip = cat.Trip(
        name=f"Trip {uuid.uuid4().hex[:6]}",
        price_per_person=money_pb2.Money(currency_code="USD", units=price[0], nanos=price[1]),
    )
    trip_id = (await catalog_stub.CreateTrip(cat.CreateTripRequest(trip=trip))).trip.trip_id
    day = day or future_day()
    departure = cat.Departure(trip_id=trip_id, departure_date=date_to_proto(day), capacity=capacity)
    await catalog_stub.CreateDeparture(cat.CreateDepartureRequest(departure=departure))
    return trip_id, day


def create_request(
    guest_id: str, trip_id: str, day: date, party_size: int = 2, **extra
) -> res.CreateReservationRequest:
    return res.CreateReservationRequest(
        request_id=str(uuid.uuid4()),
        guest_id=guest_id,
        trip_id=trip_id,
        trip_date=date_to_proto(day),
        party_size=party_size,
        **extra,
    )


async def seats_available(catalog_stub, trip_id: str, day: date) -> int:
    answer = await catalog_stub.CheckAvailability(
        cat.CheckAvailabilityRequest(trip_id=trip_id, departure_date=date_to_proto(day), seats=1)
    )
    return answer.seats_available
