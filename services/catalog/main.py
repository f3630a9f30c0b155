"""trip-catalog: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from services.catalog.config import CatalogSettings
from services.catalog.db import CatalogUnitOfWork, metadata
from services.catalog.servicer import CatalogServicer
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring

NAME = "trip-catalog"


def build(settings: CatalogSettings | None = None) -> ServiceRuntime:
    wiring = Wiring(NAME, settings or CatalogSettings(), CatalogUnitOfWork, metadata)
    servicer = CatalogServicer(wiring.uow, wiring.tokens)
    return wiring.runtime(
        catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
        lambda server: catalog_pb2_grpc.add_CatalogServiceServicer_to_server(servicer, server),
    )
