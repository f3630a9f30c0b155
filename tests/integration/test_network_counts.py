"""partner-network through its typed client, and what each RPC costs (statements and commits,
counted by the chassis as docs/partner-network.md states them)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from novatrek.network.v1 import network_pb2 as pb

from clients.network import NetworkClient
from services.chassis.errors import FailedPrecondition, PermissionDenied
from services.chassis.protoconv import decimal_of
from tests.integration.conftest import spent
from tests.integration.network_fixtures import company


@pytest.fixture
async def client(network_service):
    client = NetworkClient(network_service.address)
    yield client
    await client.close()


async def test_the_client_founds_invites_redeems_and_settles(client, businesses_stub, network_loyalty, network_clock):
    a, b = await company(businesses_stub), await company(businesses_stub)
    network = await client.create_network(str(uuid.uuid4()), "Lakes", "EUR", a)
    with pytest.raises(PermissionDenied):
        await client.invite(network.network_id, b, a)
    invitation = await client.invite(network.network_id, a, b, ttl=timedelta(hours=1))
    assert (await client.accept(invitation.invitation_id)).membership.company_id == b
    assert {m.company_id for m in await client.members(network.network_id)} == {a, b}
    network_loyalty.point_values[uuid.UUID(a)] = (Decimal("0.25"), "EUR")
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(b), 10)
    with pytest.raises(FailedPrecondition):
        await client.redeem(str(uuid.uuid4()), network.network_id, str(guest), a, 11)
    done = await client.redeem(str(uuid.uuid4()), network.network_id, str(guest), a, 10)
    assert decimal_of(done.value) == Decimal("2.50")
    assert len((await client.transactions(network.network_id)).transactions) == 1
    day = network_clock().date()
    network_clock.advance(days=1)
    settled = await client.settle(network.network_id, day, day + timedelta(days=1))
    assert [(t.from_company_id, t.to_company_id, decimal_of(t.amount)) for t in settled.transfers] == [
        (b, a, Decimal("2.50"))
    ]
    assert await client.settlements(network.network_id) == [settled]
    assert (await client.leave(network.network_id, b)).HasField("left_time")
    assert (await client.network(network.network_id)).name == "Lakes"


async def test_what_each_rpc_costs(network_stub, businesses_stub, network_loyalty, network_clock):
    """Through the raw stub: the client marks calls made outside a call as background work."""
    a, b = await company(businesses_stub), await company(businesses_stub)
    create = pb.CreateNetworkRequest(request_id=str(uuid.uuid4()), name="N", currency="EUR", founder_company_id=a)
    costs = {"create": await spent("partner-network", network_stub.CreateNetwork(create))}
    costs["create again"] = await spent("partner-network", network_stub.CreateNetwork(create))
    network = (await network_stub.CreateNetwork(create)).network.network_id
    invite = pb.InviteBusinessRequest(network_id=network, inviter_company_id=a, invitee_company_id=b)
    costs["invite"] = await spent("partner-network", network_stub.InviteBusiness(invite))
    costs["invite again"] = await spent("partner-network", network_stub.InviteBusiness(invite))
    invitation = (await network_stub.InviteBusiness(invite)).invitation.invitation_id
    accept = pb.AcceptInvitationRequest(invitation_id=invitation)
    costs["accept"] = await spent("partner-network", network_stub.AcceptInvitation(accept))
    costs["accept again"] = await spent("partner-network", network_stub.AcceptInvitation(accept))
    network_loyalty.point_values[uuid.UUID(b)] = (Decimal("0.10"), "EUR")
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(a), 5)
    redeem = pb.RedeemAcrossNetworkRequest(
        operation_id=str(uuid.uuid4()), network_id=network, member_id=str(guest), company_id=b, points=5
    )
    costs["redeem"] = await spent("partner-network", network_stub.RedeemAcrossNetwork(redeem))
    costs["redeem again"] = await spent("partner-network", network_stub.RedeemAcrossNetwork(redeem))
    day = network_clock().date()
    network_clock.advance(days=1)
    settle = pb.SettleRevenueRequest(network_id=network)
    settle.period_start.year, settle.period_start.month, settle.period_start.day = day.year, day.month, day.day
    end = day + timedelta(days=1)
    settle.period_end.year, settle.period_end.month, settle.period_end.day = end.year, end.month, end.day
    costs["settle"] = await spent("partner-network", network_stub.SettleRevenue(settle))
    costs["settle again"] = await spent("partner-network", network_stub.SettleRevenue(settle))
    costs["list settlements"] = await spent(
        "partner-network", network_stub.ListSettlements(pb.ListSettlementsRequest(network_id=network))
    )
    leave = pb.LeaveNetworkRequest(network_id=network, company_id=b)
    costs["leave"] = await spent("partner-network", network_stub.LeaveNetwork(leave))
    costs["leave again"] = await spent("partner-network", network_stub.LeaveNetwork(leave))
    costs["get"] = await spent("partner-network", network_stub.GetNetwork(pb.GetNetworkRequest(network_id=network)))
    costs["members"] = await spent(
        "partner-network", network_stub.ListMembers(pb.ListMembersRequest(network_id=network))
    )
    costs["transactions"] = await spent(
        "partner-network",
        network_stub.ListCrossBusinessTransactions(pb.ListCrossBusinessTransactionsRequest(network_id=network)),
    )
    # (statements, commits); an autocommit read is no commit; businesses and loyalty calls not counted
    assert costs == {
        "create": (3, 1),  # network, founder's membership, outbox
        "create again": (2, 1),  # the insert that finds the request_id taken, the read of the network
        "invite": (4, 1),  # lock the network, its memberships, the pending invitation, the insert
        "invite again": (3, 1),
        "accept": (6, 1),  # invitation, lock, invitation again, membership, status, outbox
        "accept again": (4, 1),
        "redeem": (7, 1),  # 3 autocommit reads; lock (share), redemption, transactions, outbox
        "redeem again": (2, 0),  # the redemption and its transactions
        "settle": (10, 1),  # with the period closed on the network
        "settle again": (4, 1),  # lock, the settlement, its positions and transfers
        "list settlements": (4, 0),
        "leave": (3, 1),  # lock, update, outbox
        "leave again": (3, 1),  # lock, update of nothing, the latest membership
        "get": (1, 0),
        "members": (2, 0),
        "transactions": (1, 0),
    }
