"""guest-profiles: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.guests.v1 import guests_pb2, guests_pb2_grpc

from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.guests.config import GuestSettings
from services.guests.db import GuestUnitOfWork, metadata
from services.guests.servicer import GuestServicer

NAME = "guest-profiles"


def build(settings: GuestSettings | None = None) -> ServiceRuntime:
    wiring = Wiring(NAME, settings or GuestSettings(), GuestUnitOfWork, metadata)
    servicer = GuestServicer(wiring.uow, wiring.tokens)
    return wiring.runtime(
        guests_pb2.DESCRIPTOR.services_by_name["GuestService"],
        lambda server: guests_pb2_grpc.add_GuestServiceServicer_to_server(servicer, server),
    )
