"""partner-network through its gRPC server with real businesses, PostgreSQL and NATS: networks, the
invitation lifecycle (expiry, double and concurrent accepts), leaving with history kept, bad input.
Redemptions and settlements: test_network_settlements.py."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import duration_pb2
from novatrek.network.v1 import network_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.network_fixtures import company, error_reason, founded, invited_and_joined


@pytest.fixture
async def network_db(network_service):
    engine = create_async_engine(network_service.database_url)
    yield engine
    await engine.dispose()


async def test_a_network_is_founded_once_per_request_id_with_its_founder_as_first_member(network_stub, businesses_stub):
    founder = await company(businesses_stub, "EUR")
    request = pb.CreateNetworkRequest(
        request_id=str(uuid.uuid4()), name="Alpine Coast", currency="EUR", founder_company_id=founder
    )
    first, again = [await network_stub.CreateNetwork(request) for _ in range(2)]
    assert first.network == again.network and first.network.founder_company_id == founder
    got = await network_stub.GetNetwork(pb.GetNetworkRequest(network_id=first.network.network_id))
    assert got.network == first.network
    members = await network_stub.ListMembers(pb.ListMembersRequest(network_id=first.network.network_id))
    assert [(m.company_id, m.HasField("left_time")) for m in members.memberships] == [(founder, False)]
    request.name = "Another name"
    assert await error_reason(network_stub.CreateNetwork(request)) == "IDEMPOTENCY_KEY_REUSED"


async def test_the_founder_must_exist_and_sell_in_the_networks_currency(network_stub, businesses_stub):
    dollars = await company(businesses_stub, "USD")
    request = pb.CreateNetworkRequest(
        request_id=str(uuid.uuid4()), name="N", currency="EUR", founder_company_id=dollars
    )
    assert await error_reason(network_stub.CreateNetwork(request)) == "CURRENCY_MISMATCH"
    request.founder_company_id = str(uuid.uuid4())
    assert await error_reason(network_stub.CreateNetwork(request)) == "COMPANY_NOT_FOUND"
    missing = pb.GetNetworkRequest(network_id=str(uuid.uuid4()))
    assert await error_reason(network_stub.GetNetwork(missing)) == "NETWORK_NOT_FOUND"


async def test_the_invitation_lifecycle(network_stub, businesses_stub, network_clock):
    network, a = await founded(network_stub, businesses_stub)
    b, c, usd = await company(businesses_stub), await company(businesses_stub), await company(businesses_stub, "USD")

    def invite(inviter, invitee, ttl_s: int = 3600):
        return network_stub.InviteBusiness(
            pb.InviteBusinessRequest(
                network_id=network,
                inviter_company_id=inviter,
                invitee_company_id=invitee,
                ttl=duration_pb2.Duration(seconds=ttl_s),
            )
        )

    assert await error_reason(invite(b, c)) == "NOT_A_MEMBER"
    assert await error_reason(invite(a, usd)) == "CURRENCY_MISMATCH"
    first = (await invite(a, b)).invitation
    assert first.status == pb.INVITATION_STATUS_PENDING and (await invite(a, b)).invitation == first
    declined = await network_stub.DeclineInvitation(pb.DeclineInvitationRequest(invitation_id=first.invitation_id))
    assert declined.invitation.status == pb.INVITATION_STATUS_DECLINED
    accept = pb.AcceptInvitationRequest(invitation_id=first.invitation_id)
    assert await error_reason(network_stub.AcceptInvitation(accept)) == "INVITATION_DECLINED"

    short = (await invite(a, b, ttl_s=60)).invitation
    network_clock.advance(seconds=61)
    expired = pb.AcceptInvitationRequest(invitation_id=short.invitation_id)
    assert await error_reason(network_stub.AcceptInvitation(expired)) == "INVITATION_EXPIRED"
    fresh = (await invite(a, b)).invitation
    assert fresh.invitation_id != short.invitation_id
    joined = await network_stub.AcceptInvitation(pb.AcceptInvitationRequest(invitation_id=fresh.invitation_id))
    again = await network_stub.AcceptInvitation(pb.AcceptInvitationRequest(invitation_id=fresh.invitation_id))
    assert again.membership == joined.membership and joined.membership.invitation_id == fresh.invitation_id
    assert await error_reason(invite(b, a)) == "ALREADY_MEMBER"
    assert (await invite(b, c)).invitation.inviter_company_id == b  # a member that joined invites too


async def test_concurrent_accepts_make_one_membership(network_stub, businesses_stub, network_db):
    network, a = await founded(network_stub, businesses_stub)
    b = await company(businesses_stub)
    invitation = await network_stub.InviteBusiness(
        pb.InviteBusinessRequest(network_id=network, inviter_company_id=a, invitee_company_id=b)
    )
    request = pb.AcceptInvitationRequest(invitation_id=invitation.invitation.invitation_id)
    answers = await asyncio.gather(*(network_stub.AcceptInvitation(request) for _ in range(20)))
    assert len({a.membership.SerializeToString() for a in answers}) == 1
    async with network_db.connect() as conn:
        count = "SELECT count(*) FROM network.memberships WHERE network_id = :n AND company_id = :c"
        assert (await conn.execute(sa.text(count), {"n": network, "c": b})).scalar_one() == 1


async def test_leaving_keeps_the_history_and_twice_is_the_same_answer(network_stub, businesses_stub):
    network, a = await founded(network_stub, businesses_stub)
    b = await invited_and_joined(network_stub, businesses_stub, network, a)
    leave = pb.LeaveNetworkRequest(network_id=network, company_id=b)
    left, again = [await network_stub.LeaveNetwork(leave) for _ in range(2)]
    assert left.membership == again.membership and left.membership.HasField("left_time")
    current = await network_stub.ListMembers(pb.ListMembersRequest(network_id=network))
    assert [m.company_id for m in current.memberships] == [a]
    everyone = await network_stub.ListMembers(pb.ListMembersRequest(network_id=network, include_left=True))
    assert {m.company_id for m in everyone.memberships} == {a, b}
    never = pb.LeaveNetworkRequest(network_id=network, company_id=str(uuid.uuid4()))
    assert await error_reason(network_stub.LeaveNetwork(never)) == "MEMBER_NOT_FOUND"
    await network_stub.LeaveNetwork(pb.LeaveNetworkRequest(network_id=network, company_id=a))  # the founder too
    assert (await network_stub.ListMembers(pb.ListMembersRequest(network_id=network))).memberships == []


async def test_bad_input_names_every_bad_field(network_stub):
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await network_stub.InviteBusiness(
            pb.InviteBusinessRequest(network_id="x", inviter_company_id="", ttl=duration_pb2.Duration(seconds=1))
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for field in ("network_id", "inviter_company_id", "invitee_company_id", "ttl"):
        assert field in bad.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as settle:
        await network_stub.SettleRevenue(pb.SettleRevenueRequest(network_id=str(uuid.uuid4())))
    assert "period_start" in settle.value.details() and "period_end" in settle.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as redeem:
        await network_stub.RedeemAcrossNetwork(pb.RedeemAcrossNetworkRequest(points=-1))
    for field in ("operation_id", "network_id", "member_id", "company_id", "points"):
        assert field in redeem.value.details()
