"""Typed async client of trip-catalog."""

from __future__ import annotations

from datetime import date

from novatrek.catalog.v1 import catalog_pb2 as pb
from novatrek.catalog.v1 import catalog_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import date_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogService"].full_name
# HoldSeats and ReleaseSeats are idempotent per reservation id, HoldSessionSeats and ReleaseSessionSeats
# per booking id, so they may be retried too.
IDEMPOTENT = [
    "GetTrip",
    "ListTrips",
    "ListDepartures",
    "CheckAvailability",
    "HoldSeats",
    "ReleaseSeats",
    "ListActivities",
    "GetSession",
    "ListSessions",
    "ListExtras",
    "HoldSessionSeats",
    "ReleaseSessionSeats",
]


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

    async def get_session(self, session_id: str) -> pb.Session:
        answer: pb.GetSessionResponse = await self._call(
            self.stub.GetSession, pb.GetSessionRequest(session_id=session_id)
        )
        return answer.session

    async def list_extras(self, activity_id: str) -> list[pb.Extra]:
        answer: pb.ListExtrasResponse = await self._call(
            self.stub.ListExtras, pb.ListExtrasRequest(activity_id=activity_id)
        )
        return list(answer.extras)

    async def hold_session_seats(self, session_id: str, booking_id: str, seats: int) -> pb.HoldSessionSeatsResponse:
        """Idempotent per booking id: SOLD_OUT, SESSION_NOT_BOOKABLE and HOLD_RELEASED come back as
        FailedPrecondition with their reason."""
        request = pb.HoldSessionSeatsRequest(session_id=session_id, booking_id=booking_id, seats=seats)
        return await self._call(self.stub.HoldSessionSeats, request)

    async def release_session_seats(self, session_id: str, booking_id: str) -> pb.ReleaseSessionSeatsResponse:
        """Idempotent; a booking that held nothing is answered 0 seats and can hold none later."""
        request = pb.ReleaseSessionSeatsRequest(session_id=session_id, booking_id=booking_id)
        return await self._call(self.stub.ReleaseSessionSeats, request)
