"""Typed async client of partner-network."""

from __future__ import annotations

from datetime import date, timedelta

from google.protobuf import duration_pb2
from novatrek.network.v1 import network_pb2 as pb
from novatrek.network.v1 import network_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import date_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["PartnerNetworkService"].full_name
# Networks are keyed by request_id, redemptions by operation_id, settlements by network and period;
# an invitation answers the invitee's pending one, accepting, declining and leaving again answer
# what the first call did: every method may be retried.
IDEMPOTENT = [m.name for m in pb.DESCRIPTOR.services_by_name["PartnerNetworkService"].methods]


class NetworkClient(TypedClient):
    dependency, service, stub_class = "partner-network", SERVICE, network_pb2_grpc.PartnerNetworkServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def create_network(
        self, request_id: str, name: str, currency: str, founder_company_id: str
    ) -> pb.PartnerNetwork:
        """NOT_FOUND COMPANY_NOT_FOUND, FAILED_PRECONDITION CURRENCY_MISMATCH (the founder's currency)."""
        request = pb.CreateNetworkRequest(
            request_id=request_id, name=name, currency=currency, founder_company_id=founder_company_id
        )
        response: pb.CreateNetworkResponse = await self._call(self.stub.CreateNetwork, request)
        return response.network

    async def network(self, network_id: str) -> pb.PartnerNetwork:
        response: pb.GetNetworkResponse = await self._call(
            self.stub.GetNetwork, pb.GetNetworkRequest(network_id=network_id)
        )
        return response.network

    async def members(self, network_id: str, include_left: bool = False) -> list[pb.NetworkMembership]:
        request = pb.ListMembersRequest(network_id=network_id, include_left=include_left)
        response: pb.ListMembersResponse = await self._call(self.stub.ListMembers, request)
        return list(response.memberships)

    async def leave(self, network_id: str, company_id: str) -> pb.NetworkMembership:
        request = pb.LeaveNetworkRequest(network_id=network_id, company_id=company_id)
        response: pb.LeaveNetworkResponse = await self._call(self.stub.LeaveNetwork, request)
        return response.membership

    async def invite(
        self, network_id: str, inviter_company_id: str, invitee_company_id: str, ttl: timedelta | None = None
    ) -> pb.PartnerInvitation:
        """PERMISSION_DENIED NOT_A_MEMBER, ALREADY_EXISTS ALREADY_MEMBER, FAILED_PRECONDITION CURRENCY_MISMATCH."""
        request = pb.InviteBusinessRequest(
            network_id=network_id,
            inviter_company_id=inviter_company_id,
            invitee_company_id=invitee_company_id,
            ttl=duration_pb2.Duration(seconds=int(ttl.total_seconds())) if ttl else None,
        )
        response: pb.InviteBusinessResponse = await self._call(self.stub.InviteBusiness, request)
        return response.invitation

    async def accept(self, invitation_id: str) -> pb.AcceptInvitationResponse:
        """FAILED_PRECONDITION INVITATION_EXPIRED / INVITATION_DECLINED."""
        request = pb.AcceptInvitationRequest(invitation_id=invitation_id)
        response: pb.AcceptInvitationResponse = await self._call(self.stub.AcceptInvitation, request)
        return response

    async def decline(self, invitation_id: str) -> pb.PartnerInvitation:
        request = pb.DeclineInvitationRequest(invitation_id=invitation_id)
        response: pb.DeclineInvitationResponse = await self._call(self.stub.DeclineInvitation, request)
        return response.invitation

    async def redeem(
        self, operation_id: str, network_id: str, member_id: str, company_id: str, points: int
    ) -> pb.RedeemAcrossNetworkResponse:
        """FAILED_PRECONDITION INSUFFICIENT_POINTS (nothing redeemed), PERMISSION_DENIED NOT_A_MEMBER."""
        request = pb.RedeemAcrossNetworkRequest(
            operation_id=operation_id, network_id=network_id, member_id=member_id, company_id=company_id, points=points
        )
        response: pb.RedeemAcrossNetworkResponse = await self._call(self.stub.RedeemAcrossNetwork, request)
        return response

    async def transactions(
        self, network_id: str, page_size: int = 0, page_token: str = ""
    ) -> pb.ListCrossBusinessTransactionsResponse:
        request = pb.ListCrossBusinessTransactionsRequest(
            network_id=network_id, page_size=page_size, page_token=page_token
        )
        response: pb.ListCrossBusinessTransactionsResponse = await self._call(
            self.stub.ListCrossBusinessTransactions, request
        )
        return response

    async def settle(self, network_id: str, period_start: date, period_end: date) -> pb.RevenueSettlement:
        """FAILED_PRECONDITION PERIOD_OVERLAPS / PERIOD_NOT_ENDED; a repeat answers the settlement made."""
        request = pb.SettleRevenueRequest(
            network_id=network_id, period_start=date_to_proto(period_start), period_end=date_to_proto(period_end)
        )
        response: pb.SettleRevenueResponse = await self._call(self.stub.SettleRevenue, request)
        return response.settlement

    async def settlements(self, network_id: str) -> list[pb.RevenueSettlement]:
        request = pb.ListSettlementsRequest(network_id=network_id)
        response: pb.ListSettlementsResponse = await self._call(self.stub.ListSettlements, request)
        return list(response.settlements)
