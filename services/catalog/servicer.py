"""CatalogService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2 as pb
from novatrek.catalog.v1 import catalog_pb2_grpc

from services.catalog import commands, handlers
from services.catalog.domain import DESCRIPTION_MAX, MAX_CAPACITY, NAME_MAX
from services.catalog.fields import price_of, seats_of
from services.catalog.protomap import departure_to_pb, trip_to_pb
from services.catalog.session_servicer import SessionRpcs
from services.chassis.errors import Violations
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import date_from_proto, money_to_proto, page_size, parse_uuid, utcnow
from services.chassis.text import Kind, text


def _slot(message, v: Violations, prefix: str = "") -> commands.Slot:
    """The (trip_id, departure_date) pair that names a departure; `prefix` is the message's field path."""
    trip_id = parse_uuid(message.trip_id, f"{prefix}trip_id", v)
    return commands.Slot(trip_id, date_from_proto(message.departure_date, f"{prefix}departure_date", v))


class CatalogServicer(SessionRpcs, catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, uow_factory, page_tokens: PageTokens) -> None:
        self.uow_factory, self.tokens = uow_factory, page_tokens

    async def CreateTrip(self, request, context):
        v = Violations()
        name = text(request.trip.name, "trip.name", v, NAME_MAX)
        description = text(request.trip.description, "trip.description", v, DESCRIPTION_MAX, False, Kind.TEXT)
        price = price_of(request.trip, "price_per_person", v, "trip.")
        v.raise_if_any()
        assert price is not None  # else raise_if_any refused the request
        trip = await handlers.create_trip(commands.CreateTrip(name, *price, description), self.uow_factory)
        return pb.CreateTripResponse(trip=trip_to_pb(trip))

    async def GetTrip(self, request, context):
        v = Violations()
        trip_id = parse_uuid(request.trip_id, "trip_id", v)
        v.raise_if_any()
        return pb.GetTripResponse(trip=trip_to_pb(await handlers.get_trip(trip_id, self.uow_factory)))

    async def ListTrips(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        position = self.tokens.decode(request.page_token, {}, v)
        v.raise_if_any()
        found, next_position = await handlers.list_trips(position, limit, self.uow_factory)
        token = self.tokens.encode(next_position, {}) if next_position else ""
        return pb.ListTripsResponse(trips=[trip_to_pb(t) for t in found], next_page_token=token)

    async def CreateDeparture(self, request, context):
        v, d = Violations(), request.departure
        slot = _slot(d, v, "departure.")
        v.check(
            v.refused("departure.departure_date") or slot.departure_date >= utcnow().date(),
            "departure.departure_date",
            "must not be in the past",
        )
        v.check(1 <= d.capacity <= MAX_CAPACITY, "departure.capacity", f"must be between 1 and {MAX_CAPACITY}")
        v.raise_if_any()
        departure = await handlers.create_departure(slot, d.capacity, self.uow_factory)
        return pb.CreateDepartureResponse(departure=departure_to_pb(departure))

    async def ListDepartures(self, request, context):
        v = Violations()
        trip_id = parse_uuid(request.trip_id, "trip_id", v)
        start = date_from_proto(request.start_date, "start_date", v, required=False)
        end = date_from_proto(request.end_date, "end_date", v, required=False)
        v.check(start is None or end is None or start <= end, "start_date", "must not be after end_date")
        v.raise_if_any()
        found = await handlers.list_departures(trip_id, start, end, self.uow_factory)
        return pb.ListDeparturesResponse(departures=[departure_to_pb(d) for d in found])

    async def CheckAvailability(self, request, context):
        v = Violations()
        slot, seats = _slot(request, v), seats_of(request.seats, v)
        v.raise_if_any()
        answer = await handlers.check_availability(slot, seats, self.uow_factory)
        price = money_to_proto(answer.trip.price_per_person, answer.trip.currency)
        return pb.CheckAvailabilityResponse(
            available=answer.available,
            seats_available=answer.departure.seats_available,
            price_per_person=price,
            departure_id=str(answer.departure.departure_id),
        )

    async def HoldSeats(self, request, context):
        v = Violations()
        slot, seats = _slot(request, v), seats_of(request.seats, v)
        reservation_id = parse_uuid(request.reservation_id, "reservation_id", v)
        v.raise_if_any()
        held = await handlers.hold_seats(slot, reservation_id, seats, self.uow_factory)
        return pb.HoldSeatsResponse(
            departure_id=str(held.departure.departure_id),
            seats_held_for_reservation=held.seats,
            seats_available=held.departure.seats_available,
            price_per_person=money_to_proto(held.trip.price_per_person, held.trip.currency),
        )

    async def ReleaseSeats(self, request, context):
        v = Violations()
        slot, reservation_id = _slot(request, v), parse_uuid(request.reservation_id, "reservation_id", v)
        v.raise_if_any()
        released = await handlers.release_seats(slot, reservation_id, self.uow_factory)
        return pb.ReleaseSeatsResponse(
            seats_released=released.seats, seats_available=released.departure.seats_available
        )
