"""Typed async client of guest-profiles."""

from __future__ import annotations

from novatrek.guests.v1 import guests_pb2 as pb
from novatrek.guests.v1 import guests_pb2_grpc

from clients.channel import TypedClient
from services.chassis.errors import FailedPrecondition

SERVICE = pb.DESCRIPTOR.services_by_name["GuestService"].full_name


class GuestsClient(TypedClient):
    dependency, service, stub_class = "guest-profiles", SERVICE, guests_pb2_grpc.GuestServiceStub
    idempotent = ("GetGuest", "SearchGuests", "ValidateGuest")

    async def validate(
        self, guest_id: str, first_name: str = "", last_name: str = "", email: str = ""
    ) -> pb.ValidateGuestResponse:
        request = pb.ValidateGuestRequest(guest_id=guest_id, first_name=first_name, last_name=last_name, email=email)
        return await self._call(self.stub.ValidateGuest, request)

    async def ensure_eligible(self, guest_id: str, first_name: str = "", last_name: str = "", email: str = "") -> None:
        """Raises FailedPrecondition(GUEST_NOT_ELIGIBLE) naming every reason (metadata `reasons`)."""
        answer = await self.validate(guest_id, first_name, last_name, email)
        if not answer.eligible:
            reasons = ",".join(
                pb.IneligibilityReason.Name(r).removeprefix("INELIGIBILITY_REASON_") for r in answer.reasons
            )
            raise FailedPrecondition(
                f"guest {guest_id} may not book: {reasons}", reason="GUEST_NOT_ELIGIBLE", metadata={"reasons": reasons}
            )

    async def get(self, guest_id: str) -> pb.Guest:
        response: pb.GetGuestResponse = await self._call(self.stub.GetGuest, pb.GetGuestRequest(guest_id=guest_id))
        return response.guest
