"""Typed async client of partner-integrations (the mesh-internal, admin-only calls)."""

from __future__ import annotations

from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc

from clients.channel import call, open_channel

SERVICE = pb.DESCRIPTOR.services_by_name["PartnerService"].full_name


class PartnersClient:
    def __init__(self, target: str, admin_token: str, timeout_s: float = 3.0) -> None:
        self.channel = open_channel(target, {SERVICE: ["GetPartnerWebhook", "GetPartnerBooking", "ListPartnerBookings"]})
        self.stub = partners_pb2_grpc.PartnerServiceStub(self.channel)
        self.timeout_s = timeout_s
        self._credentials = (("authorization", f"Bearer {admin_token}"),)

    async def get_webhook(self, partner_id: str) -> pb.GetPartnerWebhookResponse:
        """Where and how to deliver the partner's webhooks; NotFound for an unknown partner."""
        request = pb.GetPartnerWebhookRequest(partner_id=partner_id)
        return await call(self.stub.GetPartnerWebhook, request, "partner-integrations", self.timeout_s, self._credentials)

    async def close(self) -> None:
        await self.channel.close()
