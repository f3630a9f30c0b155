"""Businesses domain objects <-> protobuf messages."""

from __future__ import annotations

from novatrek.businesses.v1 import businesses_pb2 as pb

from services.businesses.domain import Company, CompanyKind, Customer
from services.chassis.protoconv import timestamp

KIND_TO_PB = {k: pb.CompanyKind.Value(f"COMPANY_KIND_{k.name}") for k in CompanyKind}
KIND_FROM_PB: dict[int, CompanyKind] = {v: k for k, v in KIND_TO_PB.items()}


def company_to_pb(c: Company) -> pb.Company:
    return pb.Company(
        company_id=str(c.company_id),
        name=c.name,
        kind=KIND_TO_PB[c.kind],
        currency=c.currency,
        create_time=timestamp(c.created_at),
    )


def customer_to_pb(c: Customer) -> pb.Customer:
    return pb.Customer(
        customer_id=str(c.customer_id),
        company_id=str(c.company_id),
        email=c.email,
        full_name=c.full_name,
        user_id=str(c.user_id) if c.user_id else "",
        guest_id=str(c.guest_id) if c.guest_id else "",
        create_time=timestamp(c.created_at),
    )
