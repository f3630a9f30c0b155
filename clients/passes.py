"""Typed async client of passes."""

from __future__ import annotations

from datetime import datetime

from novatrek.passes.v1 import passes_pb2 as pb
from novatrek.passes.v1 import passes_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import timestamp

SERVICE = pb.DESCRIPTOR.services_by_name["PassService"].full_name
# Products and entitlements are keyed by request_id, consume and restore by booking_id, the rest are
# reads: every method may be retried.
IDEMPOTENT = [
    "CreatePassProduct",
    "GetPassProduct",
    "IssueEntitlement",
    "GetEntitlement",
    "ListEntitlements",
    "ConsumeEntitlement",
    "RestoreEntitlement",
]


class PassClient(TypedClient):
    dependency, service, stub_class = "passes", SERVICE, passes_pb2_grpc.PassServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def entitlement(self, entitlement_id: str) -> pb.CustomerEntitlement:
        """NOT_FOUND ENTITLEMENT_NOT_FOUND when there is none."""
        request = pb.GetEntitlementRequest(entitlement_id=entitlement_id)
        response: pb.GetEntitlementResponse = await self._call(self.stub.GetEntitlement, request)
        return response.entitlement

    async def issue(self, request_id: str, product_id: str, customer_id: str) -> pb.CustomerEntitlement:
        """Idempotent per request_id; NOT_FOUND PASS_PRODUCT_NOT_FOUND for an unknown product."""
        request = pb.IssueEntitlementRequest(request_id=request_id, product_id=product_id, customer_id=customer_id)
        response: pb.IssueEntitlementResponse = await self._call(self.stub.IssueEntitlement, request)
        return response.entitlement

    async def consume(
        self, entitlement_id: str, booking_id: str, customer_id: str, activity_id: str, session_start: datetime
    ) -> pb.ConsumeEntitlementResponse:
        """One session for the booking (idempotent per booking_id). FailedPrecondition
        ENTITLEMENT_EXHAUSTED / ENTITLEMENT_EXPIRED / ENTITLEMENT_NOT_APPLICABLE / USAGE_RESTORED, NotFound
        ENTITLEMENT_NOT_FOUND (also another customer's entitlement)."""
        request = pb.ConsumeEntitlementRequest(
            entitlement_id=entitlement_id,
            booking_id=booking_id,
            customer_id=customer_id,
            activity_id=activity_id,
            session_start=timestamp(session_start),
        )
        response: pb.ConsumeEntitlementResponse = await self._call(self.stub.ConsumeEntitlement, request)
        return response

    async def restore(self, entitlement_id: str, booking_id: str) -> pb.RestoreEntitlementResponse:
        """The booking's session back (idempotent; a booking with no usage leaves a tombstone, restored
        false; past expiry restored false)."""
        request = pb.RestoreEntitlementRequest(entitlement_id=entitlement_id, booking_id=booking_id)
        response: pb.RestoreEntitlementResponse = await self._call(self.stub.RestoreEntitlement, request)
        return response
