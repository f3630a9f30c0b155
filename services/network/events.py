"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.network.v1 import events_pb2

from services.chassis.protoconv import timestamp
from services.network.domain import CrossBusinessTransaction, Invitation, Membership, Network
from services.network.protomap import settlement_fields, transaction_to_pb
from services.network.settlement import Settlement


def network_created(n: Network) -> events_pb2.NetworkCreated:
    return events_pb2.NetworkCreated(
        network_id=str(n.network_id),
        name=n.name,
        currency=n.currency,
        founder_company_id=str(n.founder_company_id),
        occur_time=timestamp(n.created_at),
    )


def partner_joined(m: Membership, invitation: Invitation) -> events_pb2.PartnerJoined:
    return events_pb2.PartnerJoined(
        network_id=str(m.network_id),
        company_id=str(m.company_id),
        invitation_id=str(invitation.invitation_id),
        inviter_company_id=str(invitation.inviter_company_id),
        occur_time=timestamp(m.joined_at),
    )


def partner_left(m: Membership) -> events_pb2.PartnerLeft:
    assert m.left_at is not None
    return events_pb2.PartnerLeft(
        network_id=str(m.network_id),
        company_id=str(m.company_id),
        joined_time=timestamp(m.joined_at),
        occur_time=timestamp(m.left_at),
    )


def transaction_completed(t: CrossBusinessTransaction) -> events_pb2.CrossBusinessTransactionCompleted:
    return events_pb2.CrossBusinessTransactionCompleted(transaction=transaction_to_pb(t))


def settlement_processed(s: Settlement) -> events_pb2.RevenueSettlementProcessed:
    return events_pb2.RevenueSettlementProcessed(**settlement_fields(s), occur_time=timestamp(s.created_at))
