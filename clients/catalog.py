"""Typed async client of trip-catalog."""

from __future__ import annotations

from datetime import date

from novatrek.catalog.v1 import catalog_pb2 as pb
from novatrek.catalog.v1 import catalog_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import date_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogService"].full_name
# HoldSeats and ReleaseSeats are idempotent per reservation id, so they may be retried too.
IDEMPOTENT = ["GetTrip", "ListTrips", "ListDepartures", "CheckAvailability", "HoldSeats", "ReleaseSeats"]


class CatalogClient(TypedClient):
    dependency, service, stub_class = "trip-catalog", SERVICE, catalog_pb2_grpc.CatalogServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def check_availability(self, trip_id: str, day: date, seats: int) -> pb.CheckAvailabilityResponse:
        request = pb.CheckAvailabilityRequest(trip_id=trip_id, departure_date=date_to_proto(day), seats=seats)
        return await self._call(self.stub.CheckAvailability, request)

    async def hold_seats(self, trip_id: str, day: date, reservation_id: str, seats: int) -> pb.HoldSeatsResponse:
        request = pb.HoldSeatsRequest(
            trip_id=trip_id, departure_date=date_to_proto(day), reservation_id=reservation_id, seats=seats
        )
        return await self._call(self.stub.HoldSeats, request)

    async def release_seats(self, trip_id: str, day: date, reservation_id: str) -> pb.ReleaseSeatsResponse:
        request = pb.ReleaseSeatsRequest(
            trip_id=trip_id, departure_date=date_to_proto(day), reservation_id=reservation_id
        )
        return await self._call(self.stub.ReleaseSeats, request)
