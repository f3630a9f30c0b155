"""partner-network: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from novatrek.network.v1 import network_pb2, network_pb2_grpc

from clients.businesses import BusinessesClient
from clients.loyalty import LoyaltyClient
from services.chassis.protoconv import utcnow
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.network.adapters import BusinessesOverGrpc, LoyaltyOverGrpc
from services.network.config import NetworkSettings
from services.network.db import metadata
from services.network.handlers import Deps
from services.network.ports import Loyalty
from services.network.repositories import NetworkUnitOfWork
from services.network.servicer import NetworkServicer

NAME = "partner-network"


def build(
    settings: NetworkSettings | None = None, clock: Callable[[], datetime] = utcnow, loyalty: Loyalty | None = None
) -> ServiceRuntime:
    """`clock`: invitations' expiry, transactions' time and the settlements' "today" (tests move it);
    `loyalty`: the Loyalty port to use instead of the one over gRPC (tests)."""
    s = settings or NetworkSettings()
    wiring = Wiring(NAME, s, NetworkUnitOfWork, metadata, publishes_events=True)
    businesses = BusinessesClient(s.businesses_addr, s.outbound_timeout_s)
    loyalty_client = LoyaltyClient(s.loyalty_addr, s.outbound_timeout_s)
    deps = Deps(wiring.uow, BusinessesOverGrpc(businesses), loyalty or LoyaltyOverGrpc(loyalty_client), clock)
    servicer = NetworkServicer(deps, wiring.tokens)
    runtime = wiring.runtime(
        network_pb2.DESCRIPTOR.services_by_name["PartnerNetworkService"],
        lambda server: network_pb2_grpc.add_PartnerNetworkServiceServicer_to_server(servicer, server),
    )
    runtime.closers += [businesses.close, loyalty_client.close]
    return runtime
