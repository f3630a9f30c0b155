"""Partners made through the admin API, calls made as them, and partner-integrations servers of a test's own."""

from __future__ import annotations

import functools
import uuid

import pytest
from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc

from services.chassis.protoconv import date_to_proto, utcnow
from services.partners.config import PartnerSettings
from services.partners.main import build as build_partners
from tests.integration.conftest import fresh_database, serve

ADMIN_TOKEN = "test-admin-token-9f3c"
ADMIN = (("authorization", f"Bearer {ADMIN_TOKEN}"),)


def as_key(api_key: str, idempotency_key: str | None = None) -> tuple:
    metadata = (("authorization", f"Bearer {api_key}"),)
    return metadata + ((("idempotency-key", idempotency_key),) if idempotency_key else ())


def count_plan(*tiers: tuple[str, str]) -> pb.CommissionPlan:
    return pb.CommissionPlan(
        basis=pb.TIER_BASIS_BOOKING_COUNT, tiers=[pb.CommissionTier(threshold=t, rate=r) for t, r in tiers]
    )


async def register(
    stub: partners_pb2_grpc.PartnerServiceStub, plan: pb.CommissionPlan | None = None
) -> tuple[str, str]:
    partner = pb.Partner(
        name=f"OTA {uuid.uuid4().hex[:6]}",
        contact_email="ops@ota.example",
        webhook_url="https://ota.example/hooks",
        commission_plan=plan or count_plan(("0", "0.10")),
    )
    answer = await stub.RegisterPartner(pb.RegisterPartnerRequest(partner=partner), metadata=ADMIN)
    return answer.partner.partner_id, answer.api_key


def booking_request(guest_id: str, trip_id: str, day, party_size: int = 2, **extra) -> pb.CreatePartnerBookingRequest:
    return pb.CreatePartnerBookingRequest(
        guest_id=guest_id, trip_id=trip_id, trip_date=date_to_proto(day), party_size=party_size, **extra
    )


@pytest.fixture
async def partners_with(
    make_database, guests_service, catalog_service, reservations_service, payments_service, nats_url
):
    """Starts a partner-integrations of its own, with some settings changed (dependencies down, grace)
    and the clock it goes by; import it into a test module to use it."""
    started = []

    async def start(clock=utcnow, **overrides):
        addresses = {
            "guests_addr": guests_service.address,
            "reservations_addr": reservations_service.address,
            "payments_addr": payments_service.address,
        }
        database = await fresh_database(make_database, "partner-integrations", f"partners_{uuid.uuid4().hex[:8]}")
        running = await serve(
            functools.partial(build_partners, clock=clock),
            PartnerSettings,
            database,
            nats_url=nats_url,
            admin_token=ADMIN_TOKEN,
            outbound_timeout_s=1.0,
            **{**addresses, **overrides},
        )
        started.append(running)
        return running, partners_pb2_grpc.PartnerServiceStub(running.channel)

    yield start
    for running in started:
        await running.stop()
