"""Typed async client of reservations."""

from __future__ import annotations

from datetime import date

from novatrek.reservations.v1 import reservations_pb2 as pb
from novatrek.reservations.v1 import reservations_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import date_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["ReservationService"].full_name
# CreateReservation is idempotent per request_id; cancel is idempotent by design.
IDEMPOTENT = ["GetReservation", "SearchReservations", "ListParticipants", "CreateReservation", "CancelReservation"]


class ReservationsClient(TypedClient):
    dependency, service, stub_class = "reservations", SERVICE, reservations_pb2_grpc.ReservationServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def create(
        self,
        request_id: str,
        guest_id: str,
        trip_id: str,
        day: date,
        party_size: int,
        requested_by: str,
        reservation_id: str = "",
    ) -> pb.Reservation:
        request = pb.CreateReservationRequest(
            request_id=request_id,
            guest_id=guest_id,
            trip_id=trip_id,
            trip_date=date_to_proto(day),
            party_size=party_size,
            requested_by=requested_by,
            reservation_id=reservation_id,
        )
        response: pb.CreateReservationResponse = await self._call(self.stub.CreateReservation, request)
        return response.reservation

    async def get(self, reservation_id: str) -> pb.Reservation:
        request = pb.GetReservationRequest(reservation_id=reservation_id)
        response: pb.GetReservationResponse = await self._call(self.stub.GetReservation, request)
        return response.reservation

    async def transition(
        self, reservation_id: str, status: pb.ReservationStatus.ValueType, changed_by: str, reason: str
    ) -> pb.Reservation:
        request = pb.TransitionReservationStatusRequest(
            reservation_id=reservation_id, status=status, changed_by=changed_by, reason=reason
        )
        response: pb.TransitionReservationStatusResponse = await self._call(
            self.stub.TransitionReservationStatus, request
        )
        return response.reservation

    async def cancel(self, reservation_id: str, cancelled_by: str, reason: str) -> pb.Reservation:
        request = pb.CancelReservationRequest(reservation_id=reservation_id, cancelled_by=cancelled_by, reason=reason)
        response: pb.CancelReservationResponse = await self._call(self.stub.CancelReservation, request)
        return response.reservation
