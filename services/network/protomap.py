"""Partner-network domain objects <-> protobuf messages (shared by the servicer and events.py)."""

from __future__ import annotations

from datetime import datetime

from novatrek.network.v1 import network_pb2 as pb

from services.chassis.protoconv import date_to_proto, money_to_proto, timestamp
from services.network.domain import CrossBusinessTransaction, Invitation, InvitationStatus, Membership, Network
from services.network.settlement import Position, Settlement, Transfer

STATUS_TO_PB = {s: pb.InvitationStatus.Value(f"INVITATION_STATUS_{s.name}") for s in InvitationStatus}


def network_to_pb(n: Network) -> pb.PartnerNetwork:
    return pb.PartnerNetwork(
        network_id=str(n.network_id),
        name=n.name,
        currency=n.currency,
        founder_company_id=str(n.founder_company_id),
        create_time=timestamp(n.created_at),
    )


def membership_to_pb(m: Membership) -> pb.NetworkMembership:
    return pb.NetworkMembership(
        network_id=str(m.network_id),
        company_id=str(m.company_id),
        joined_time=timestamp(m.joined_at),
        left_time=timestamp(m.left_at) if m.left_at else None,
        invitation_id=str(m.invitation_id) if m.invitation_id else "",
    )


def invitation_to_pb(i: Invitation, now: datetime) -> pb.PartnerInvitation:
    """As it stands at `now` (a pending invitation past its expiry reads EXPIRED)."""
    return pb.PartnerInvitation(
        invitation_id=str(i.invitation_id),
        network_id=str(i.network_id),
        inviter_company_id=str(i.inviter_company_id),
        invitee_company_id=str(i.invitee_company_id),
        status=STATUS_TO_PB[i.status_at(now)],
        create_time=timestamp(i.created_at),
        expire_time=timestamp(i.expire_at),
    )


def transaction_to_pb(t: CrossBusinessTransaction) -> pb.CrossBusinessTransaction:
    return pb.CrossBusinessTransaction(
        transaction_id=str(t.transaction_id),
        network_id=str(t.network_id),
        issuer_company_id=str(t.issuer_company_id),
        redeemer_company_id=str(t.redeemer_company_id),
        member_id=str(t.member_id),
        points=t.points,
        point_value=money_to_proto(t.point_value, t.currency),
        value=money_to_proto(t.value, t.currency),
        occur_time=timestamp(t.occurred_at),
        operation_id=str(t.operation_id),
        settlement_date=date_to_proto(t.settlement_date),
    )


def position_to_pb(p: Position, currency: str) -> pb.SettlementPosition:
    return pb.SettlementPosition(
        company_id=str(p.company_id),
        receivable=money_to_proto(p.receivable, currency),
        payable=money_to_proto(p.payable, currency),
        net=money_to_proto(p.net, currency),
    )


def transfer_to_pb(t: Transfer, currency: str) -> pb.SettlementTransfer:
    return pb.SettlementTransfer(
        from_company_id=str(t.from_company_id),
        to_company_id=str(t.to_company_id),
        amount=money_to_proto(t.amount, currency),
    )


def settlement_fields(s: Settlement) -> dict:
    """What RevenueSettlement and its event share."""
    return {
        "settlement_id": str(s.settlement_id),
        "network_id": str(s.network_id),
        "period_start": date_to_proto(s.period_start),
        "period_end": date_to_proto(s.period_end),
        "currency": s.currency,
        "positions": [position_to_pb(p, s.currency) for p in s.positions],
        "transfers": [transfer_to_pb(t, s.currency) for t in s.transfers],
        "transaction_count": s.transaction_count,
    }


def settlement_to_pb(s: Settlement) -> pb.RevenueSettlement:
    return pb.RevenueSettlement(**settlement_fields(s), create_time=timestamp(s.created_at))
