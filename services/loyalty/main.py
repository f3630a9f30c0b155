"""loyalty: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc

from services.chassis.periodic import periodically
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.loyalty.config import LoyaltySettings
from services.loyalty.consumers import SUBSCRIPTIONS
from services.loyalty.db import metadata
from services.loyalty.handlers import Deps, expire_points
from services.loyalty.repositories import LoyaltyUnitOfWork
from services.loyalty.servicer import LoyaltyServicer

NAME = "loyalty"


def build(settings: LoyaltySettings | None = None) -> ServiceRuntime:
    settings = settings or LoyaltySettings()
    wiring = Wiring(NAME, settings, LoyaltyUnitOfWork, metadata, publishes_events=True)
    deps = Deps(uow=wiring.uow)
    wiring.background.append(
        periodically(lambda: expire_points(deps, settings.expiry_batch), settings.expiry_interval_s, "expire points")
    )
    wiring.consume(SUBSCRIPTIONS)
    servicer = LoyaltyServicer(deps, wiring.tokens)
    return wiring.runtime(
        loyalty_pb2.DESCRIPTOR.services_by_name["LoyaltyService"],
        lambda server: loyalty_pb2_grpc.add_LoyaltyServiceServicer_to_server(servicer, server),
    )
