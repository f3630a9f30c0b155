"""passes: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.passes.v1 import passes_pb2, passes_pb2_grpc

from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.passes.config import PassSettings
from services.passes.db import metadata
from services.passes.handlers import Deps
from services.passes.repositories import PassUnitOfWork
from services.passes.servicer import PassServicer

NAME = "passes"


def build(settings: PassSettings | None = None) -> ServiceRuntime:
    settings = settings or PassSettings()
    # It publishes and consumes no events: no broker, no outbox, no relay (health: the database only).
    wiring = Wiring(NAME, settings, PassUnitOfWork, metadata)
    servicer = PassServicer(Deps(uow=wiring.uow), wiring.tokens)
    return wiring.runtime(
        passes_pb2.DESCRIPTOR.services_by_name["PassService"],
        lambda server: passes_pb2_grpc.add_PassServiceServicer_to_server(servicer, server),
    )
