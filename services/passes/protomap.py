"""Pass domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.passes.v1 import passes_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.passes.domain import Entitlement, PassProduct, Usage, UsageStatus

USAGE_STATUS_TO_PB = {s: pb.UsageStatus.Value(f"USAGE_STATUS_{s.name}") for s in UsageStatus}


def product_to_pb(p: PassProduct) -> pb.PassProduct:
    return pb.PassProduct(
        product_id=str(p.product_id),
        company_id=str(p.company_id),
        name=p.name,
        sessions=p.sessions,
        validity_days=p.validity_days,
        activity_ids=[str(a) for a in p.activity_ids],
        price=money_to_proto(p.price, p.currency),
        create_time=timestamp(p.created_at),
    )


def entitlement_to_pb(e: Entitlement) -> pb.CustomerEntitlement:
    return pb.CustomerEntitlement(
        entitlement_id=str(e.entitlement_id),
        product_id=str(e.product_id),
        company_id=str(e.company_id),
        customer_id=str(e.customer_id),
        sessions_total=e.sessions_total,
        sessions_remaining=e.sessions_remaining,
        activity_ids=[str(a) for a in e.activity_ids],
        valid_from=timestamp(e.valid_from),
        expire_time=timestamp(e.expire_time),
        create_time=timestamp(e.created_at),
    )


def usage_to_pb(u: Usage) -> pb.EntitlementUsage:
    return pb.EntitlementUsage(
        booking_id=str(u.booking_id),
        entitlement_id=str(u.entitlement_id),
        activity_id=str(u.activity_id) if u.activity_id else "",
        session_start=timestamp(u.session_start) if u.session_start else None,
        status=USAGE_STATUS_TO_PB[u.status],
        create_time=timestamp(u.created_at),
        restore_time=timestamp(u.restored_at) if u.restored_at else None,
    )
