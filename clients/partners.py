"""Typed async client of partner-integrations (the mesh-internal, admin-only calls)."""

from __future__ import annotations

from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc

from clients.channel import TypedClient

SERVICE = pb.DESCRIPTOR.services_by_name["PartnerService"].full_name


class PartnersClient(TypedClient):
    dependency, service, stub_class = "partner-integrations", SERVICE, partners_pb2_grpc.PartnerServiceStub
    idempotent = ("GetPartnerWebhook", "GetPartnerBooking", "ListPartnerBookings")

    def __init__(self, target: str, admin_token: str, timeout_s: float = 3.0) -> None:
        super().__init__(target, timeout_s, credentials=(("authorization", f"Bearer {admin_token}"),))

    async def get_webhook(self, partner_id: str) -> pb.GetPartnerWebhookResponse:
        """Where and how to deliver the partner's webhooks; NotFound for an unknown partner."""
        request = pb.GetPartnerWebhookRequest(partner_id=partner_id)
        return await self._call(self.stub.GetPartnerWebhook, request)
