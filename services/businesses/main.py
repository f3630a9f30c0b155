"""businesses: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.businesses.v1 import businesses_pb2, businesses_pb2_grpc

from clients.guests import GuestsClient
from services.businesses.adapters import GuestsOverGrpc
from services.businesses.config import BusinessSettings
from services.businesses.db import metadata
from services.businesses.handlers import Deps
from services.businesses.repositories import BusinessUnitOfWork
from services.businesses.servicer import BusinessServicer
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring

NAME = "businesses"


def build(settings: BusinessSettings | None = None) -> ServiceRuntime:
    s = settings or BusinessSettings()
    # It publishes and consumes no events: no broker, no outbox.
    wiring = Wiring(NAME, s, BusinessUnitOfWork, metadata)
    guests = GuestsClient(s.guests_addr, s.outbound_timeout_s)
    servicer = BusinessServicer(Deps(wiring.uow, GuestsOverGrpc(guests)), wiring.tokens)
    runtime = wiring.runtime(
        businesses_pb2.DESCRIPTOR.services_by_name["BusinessService"],
        lambda server: businesses_pb2_grpc.add_BusinessServiceServicer_to_server(servicer, server),
    )
    runtime.closers.append(guests.close)
    return runtime
