"""Demo data of loyalty and the partner network (seed 002) for `novatrek up`, loaded through the public
gRPC APIs and idempotent: the two demo companies earn 1 point per euro of a session and value a point
at 0.05 EUR; the demo customer is linked to the first demo guest (the loyalty member); the companies
form a network (created by a fixed request id, the second invited and joined once)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import grpc

from services.chassis.protoconv import money_to_proto
from services.cli.demo_activities import CURRENCY, CUSTOMER_NAME, ActivitiesDemo, demo_id

TIMEOUT_S = 10.0
NETWORK_NAME = "Alpine Adventure Network"
POINTS_PER_EURO, POINT_VALUE = "1", Decimal("0.05")


@dataclass
class NetworkDemo:
    network_id: str = ""
    member_id: str = ""  # the demo guest: earns at one company, redeems at the other
    companies: tuple[str, ...] = ()  # (founder, partner)


def _rules(addr: str, companies: tuple[str, ...]) -> None:
    from novatrek.loyalty.v1 import loyalty_pb2 as pb
    from novatrek.loyalty.v1 import loyalty_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        stub = loyalty_pb2_grpc.LoyaltyServiceStub(channel)
        for company in companies:  # upserts: the same rules on every `up`
            earn = pb.SetEarnRuleRequest(
                company_id=company, source=pb.EARN_SOURCE_SESSION, points_per_unit=POINTS_PER_EURO
            )
            stub.SetEarnRule(earn, timeout=TIMEOUT_S)
            value = money_to_proto(POINT_VALUE, CURRENCY)
            stub.SetRedeemRule(pb.SetRedeemRuleRequest(company_id=company, point_value=value), timeout=TIMEOUT_S)


def _link_member(addr: str, companies: tuple[str, ...], email: str, user_id: str, guest_id: str) -> None:
    """The demo customer of each company, linked to the demo guest (registration is idempotent)."""
    from novatrek.businesses.v1 import businesses_pb2 as pb
    from novatrek.businesses.v1 import businesses_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        stub = businesses_pb2_grpc.BusinessServiceStub(channel)
        for company in companies:
            request = pb.RegisterCustomerRequest(
                company_id=company, email=email, full_name=CUSTOMER_NAME, user_id=user_id, guest_id=guest_id
            )
            stub.RegisterCustomer(request, timeout=TIMEOUT_S)


def _network(addr: str, founder: str, partner: str) -> str:
    from novatrek.network.v1 import network_pb2 as pb
    from novatrek.network.v1 import network_pb2_grpc

    with grpc.insecure_channel(addr) as channel:
        stub = network_pb2_grpc.PartnerNetworkServiceStub(channel)
        create = pb.CreateNetworkRequest(
            request_id=demo_id(NETWORK_NAME), name=NETWORK_NAME, currency=CURRENCY, founder_company_id=founder
        )
        network_id = str(stub.CreateNetwork(create, timeout=TIMEOUT_S).network.network_id)
        members = stub.ListMembers(pb.ListMembersRequest(network_id=network_id), timeout=TIMEOUT_S).memberships
        if partner not in {m.company_id for m in members}:
            invite = pb.InviteBusinessRequest(
                network_id=network_id, inviter_company_id=founder, invitee_company_id=partner
            )
            invitation = stub.InviteBusiness(invite, timeout=TIMEOUT_S).invitation
            stub.AcceptInvitation(pb.AcceptInvitationRequest(invitation_id=invitation.invitation_id), timeout=TIMEOUT_S)
        return network_id


def load(addresses: dict[str, str], activities: ActivitiesDemo, guest_id: str, email: str) -> NetworkDemo:
    """When loyalty, partner-network and businesses run and the activities demo was loaded."""
    needed = ("loyalty", "partner-network", "businesses")
    companies = tuple(activities.companies.values())
    if not (all(n in addresses for n in needed) and len(companies) >= 2 and guest_id):
        return NetworkDemo()
    founder, partner = companies[:2]
    _rules(addresses["loyalty"], (founder, partner))
    _link_member(addresses["businesses"], (founder, partner), email, activities.user_id, guest_id)
    network_id = _network(addresses["partner-network"], founder, partner)
    return NetworkDemo(network_id, guest_id, (founder, partner))
