"""Partners made through the admin API, and calls made as them."""

from __future__ import annotations

import uuid

from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc
from services.chassis.protoconv import date_to_proto

ADMIN_TOKEN = "test-admin-token-9f3c"
ADMIN = (("authorization", f"Bearer {ADMIN_TOKEN}"),)


def as_key(api_key: str, idempotency_key: str | None = None) -> tuple:
    metadata = (("authorization", f"Bearer {api_key}"),)
    return metadata + ((("idempotency-key", idempotency_key),) if idempotency_key else ())


def count_plan(*tiers: tuple[str, str]) -> pb.CommissionPlan:
    return pb.CommissionPlan(basis=pb.TIER_BASIS_BOOKING_COUNT, tiers=[pb.CommissionTier(threshold=t, rate=r) for t, r in tiers])


async def register(stub: partners_pb2_grpc.PartnerServiceStub, plan: pb.CommissionPlan | None = None) -> tuple[str, str]:
    partner = pb.Partner(name=f"OTA {uuid.uuid4().hex[:6]}", contact_email="ops@ota.example", webhook_url="https://ota.example/hooks",
                         commission_plan=plan or count_plan(("0", "0.10")))
    answer = await stub.RegisterPartner(pb.RegisterPartnerRequest(partner=partner), metadata=ADMIN)
    return answer.partner.partner_id, answer.api_key


def booking_request(guest_id: str, trip_id: str, day, party_size: int = 2, **extra) -> pb.CreatePartnerBookingRequest:
    return pb.CreatePartnerBookingRequest(guest_id=guest_id, trip_id=trip_id, trip_date=date_to_proto(day), party_size=party_size, **extra)
