"""PartnerNetworkService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid
from datetime import timedelta

from google.protobuf import duration_pb2
from novatrek.network.v1 import network_pb2 as pb
from novatrek.network.v1 import network_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.money import CURRENCY_MINOR_UNITS
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import date_from_proto, money_to_proto, page_size, parse_uuid
from services.chassis.text import text
from services.network import commands, handlers, redemptions
from services.network.domain import DEFAULT_TTL, MAX_POINTS, MAX_TTL, MIN_TTL, NAME_MAX
from services.network.protomap import (
    invitation_to_pb,
    membership_to_pb,
    network_to_pb,
    settlement_to_pb,
    transaction_to_pb,
)


def _ids(request, v: Violations, *fields: str) -> list[uuid.UUID]:
    return [parse_uuid(getattr(request, name), name, v) for name in fields]


def _currency(value: str, v: Violations) -> str:
    v.check(value in CURRENCY_MINOR_UNITS, "currency", "unknown or unsupported ISO 4217 currency")
    return value


def _ttl(request, v: Violations) -> timedelta:
    if not request.HasField("ttl"):
        return DEFAULT_TTL
    d: duration_pb2.Duration = request.ttl
    ok = MIN_TTL.total_seconds() <= d.seconds < MAX_TTL.total_seconds() and 0 <= d.nanos < 1_000_000_000
    v.check(ok, "ttl", f"must be from {MIN_TTL} to {MAX_TTL.days} days")
    return timedelta(seconds=d.seconds, microseconds=d.nanos // 1000) if ok else DEFAULT_TTL


class NetworkServicer(network_pb2_grpc.PartnerNetworkServiceServicer):
    def __init__(self, deps: handlers.Deps, tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, tokens

    async def CreateNetwork(self, request, context):
        v = Violations()
        cmd = commands.CreateNetwork(
            parse_uuid(request.request_id, "request_id", v),
            text(request.name, "name", v, NAME_MAX),
            _currency(request.currency, v),
            parse_uuid(request.founder_company_id, "founder_company_id", v),
        )
        v.raise_if_any()
        return pb.CreateNetworkResponse(network=network_to_pb(await handlers.create_network(cmd, self.deps)))

    async def GetNetwork(self, request, context):
        v = Violations()
        (network_id,) = _ids(request, v, "network_id")
        v.raise_if_any()
        return pb.GetNetworkResponse(network=network_to_pb(await handlers.get_network(network_id, self.deps)))

    async def ListMembers(self, request, context):
        v = Violations()
        (network_id,) = _ids(request, v, "network_id")
        v.raise_if_any()
        found = await handlers.list_members(commands.ListMembers(network_id, request.include_left), self.deps)
        return pb.ListMembersResponse(memberships=[membership_to_pb(m) for m in found])

    async def LeaveNetwork(self, request, context):
        v = Violations()
        cmd = commands.LeaveNetwork(*_ids(request, v, "network_id", "company_id"))
        v.raise_if_any()
        return pb.LeaveNetworkResponse(membership=membership_to_pb(await handlers.leave_network(cmd, self.deps)))

    async def InviteBusiness(self, request, context):
        v = Violations()
        network_id, inviter, invitee = _ids(request, v, "network_id", "inviter_company_id", "invitee_company_id")
        ttl = _ttl(request, v)
        if not v.refused("inviter_company_id") and not v.refused("invitee_company_id"):
            v.check(inviter != invitee, "invitee_company_id", "must differ from inviter_company_id")
        v.raise_if_any()
        invitation = await handlers.invite_business(
            commands.InviteBusiness(network_id, inviter, invitee, ttl), self.deps
        )
        return pb.InviteBusinessResponse(invitation=invitation_to_pb(invitation, self.deps.clock()))

    async def AcceptInvitation(self, request, context):
        v = Violations()
        (invitation_id,) = _ids(request, v, "invitation_id")
        v.raise_if_any()
        membership, invitation = await handlers.accept_invitation(invitation_id, self.deps)
        return pb.AcceptInvitationResponse(
            membership=membership_to_pb(membership), invitation=invitation_to_pb(invitation, self.deps.clock())
        )

    async def DeclineInvitation(self, request, context):
        v = Violations()
        (invitation_id,) = _ids(request, v, "invitation_id")
        v.raise_if_any()
        invitation = await handlers.decline_invitation(invitation_id, self.deps)
        return pb.DeclineInvitationResponse(invitation=invitation_to_pb(invitation, self.deps.clock()))

    async def RedeemAcrossNetwork(self, request, context):
        v = Violations()
        operation_id, network_id, member_id, company_id = _ids(
            request, v, "operation_id", "network_id", "member_id", "company_id"
        )
        v.check(0 < request.points <= MAX_POINTS, "points", f"must be from 1 to {MAX_POINTS}")
        v.raise_if_any()
        done = await redemptions.redeem_across_network(
            commands.RedeemAcrossNetwork(operation_id, network_id, member_id, company_id, request.points), self.deps
        )
        return pb.RedeemAcrossNetworkResponse(
            operation_id=str(done.operation_id),
            points=done.points,
            value=money_to_proto(done.value, done.currency),
            transactions=[transaction_to_pb(t) for t in done.transactions],
        )

    async def ListCrossBusinessTransactions(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        (network_id,) = _ids(request, v, "network_id")
        filters = {"list": "transactions", "network_id": str(network_id)}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        q = commands.ListTransactions(network_id, position, limit)
        found, after = await redemptions.list_transactions(q, self.deps)
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListCrossBusinessTransactionsResponse(
            transactions=[transaction_to_pb(t) for t in found], next_page_token=token
        )

    async def SettleRevenue(self, request, context):
        v = Violations()
        (network_id,) = _ids(request, v, "network_id")
        start = date_from_proto(request.period_start, "period_start", v)
        end = date_from_proto(request.period_end, "period_end", v)
        if not v.refused("period_start") and not v.refused("period_end"):
            v.check(end > start, "period_end", "must be after period_start")
        v.raise_if_any()
        settlement = await redemptions.settle_revenue(commands.SettleRevenue(network_id, start, end), self.deps)
        return pb.SettleRevenueResponse(settlement=settlement_to_pb(settlement))

    async def ListSettlements(self, request, context):
        v = Violations()
        (network_id,) = _ids(request, v, "network_id")
        v.raise_if_any()
        found = await redemptions.list_settlements(network_id, self.deps)
        return pb.ListSettlementsResponse(settlements=[settlement_to_pb(s) for s in found])
