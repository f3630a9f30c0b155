"""trip-catalog: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from services.catalog.config import CatalogSettings
from services.catalog.db import metadata
from services.catalog.repositories import CatalogUnitOfWork
from services.catalog.servicer import CatalogServicer
from services.catalog.session_handlers import finish_ended_sessions
from services.chassis.periodic import periodically
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring

NAME = "trip-catalog"


def build(settings: CatalogSettings | None = None) -> ServiceRuntime:
    settings = settings or CatalogSettings()
    # SessionFinished goes out through the outbox: the relay needs the broker.
    wiring = Wiring(NAME, settings, CatalogUnitOfWork, metadata, publishes_events=True)
    wiring.background.append(
        periodically(
            lambda: finish_ended_sessions(wiring.uow, settings.finish_batch),
            settings.finish_interval_s,
            "finish sessions",
        )
    )
    servicer = CatalogServicer(wiring.uow, wiring.tokens)
    return wiring.runtime(
        catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
        lambda server: catalog_pb2_grpc.add_CatalogServiceServicer_to_server(servicer, server),
    )
