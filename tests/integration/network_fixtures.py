"""Companies (real businesses), networks and members for partner-network's integration tests."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from novatrek.businesses.v1 import businesses_pb2 as bpb
from novatrek.network.v1 import network_pb2 as pb
from novatrek.network.v1 import network_pb2_grpc

from tests.integration.conftest import fresh_database, serve


async def company(businesses_stub, currency: str = "EUR") -> str:
    request = bpb.CreateCompanyRequest(
        request_id=str(uuid.uuid4()), name="Partner", kind=bpb.COMPANY_KIND_PARTNER_BUSINESS, currency=currency
    )
    return (await businesses_stub.CreateCompany(request)).company.company_id


async def founded(network_stub, businesses_stub, currency: str = "EUR") -> tuple[str, str]:
    """(network_id, founder company_id)."""
    founder = await company(businesses_stub, currency)
    request = pb.CreateNetworkRequest(
        request_id=str(uuid.uuid4()), name="Coast", currency=currency, founder_company_id=founder
    )
    return (await network_stub.CreateNetwork(request)).network.network_id, founder


async def invited_and_joined(network_stub, businesses_stub, network: str, inviter: str, currency: str = "EUR") -> str:
    """A new company, invited by `inviter` and joined; its company_id."""
    invitee = await company(businesses_stub, currency)
    invitation = await network_stub.InviteBusiness(
        pb.InviteBusinessRequest(network_id=network, inviter_company_id=inviter, invitee_company_id=invitee)
    )
    await network_stub.AcceptInvitation(pb.AcceptInvitationRequest(invitation_id=invitation.invitation.invitation_id))
    return invitee


async def error_reason(call) -> str:
    """The ErrorInfo reason of a call that must fail."""
    try:
        await call
    except grpc.aio.AioRpcError as err:
        for key, value in err.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                for detail in status_pb2.Status.FromString(value).details:
                    info = error_details_pb2.ErrorInfo()
                    if detail.Unpack(info):
                        return info.reason
        return err.code().name
    raise AssertionError("the call succeeded")


@pytest.fixture(scope="module")
async def network_over_loyalty(request, make_database, nats_url, businesses_service, loyalty_service):
    """partner-network as deployed: its Loyalty port over the typed client of the real loyalty (a
    database per test module)."""
    from services.network.config import NetworkSettings
    from services.network.main import build as build_network

    module = request.module.__name__.rsplit(".", 1)[-1]
    database = await fresh_database(make_database, "partner-network", f"network_{module}")
    running = await serve(
        build_network,
        NetworkSettings,
        database,
        nats_url=nats_url,
        businesses_addr=businesses_service.address,
        loyalty_addr=loyalty_service.address,
    )
    yield network_pb2_grpc.PartnerNetworkServiceStub(running.channel)
    await running.stop()
