"""inventory: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.inventory.v1 import inventory_pb2, inventory_pb2_grpc

from services.chassis.periodic import periodically
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.inventory.config import InventorySettings
from services.inventory.consumers import SUBSCRIPTIONS
from services.inventory.db import metadata
from services.inventory.handlers import Deps, release_expired
from services.inventory.repositories import InventoryUnitOfWork
from services.inventory.servicer import InventoryServicer

NAME = "inventory"


def build(settings: InventorySettings | None = None) -> ServiceRuntime:
    settings = settings or InventorySettings()
    # It publishes nothing (no outbox, no relay) but consumes order events: it needs the broker.
    wiring = Wiring(NAME, settings, InventoryUnitOfWork, metadata, publishes_events=True)
    deps = Deps(uow=wiring.uow, default_hold_s=settings.default_hold_s)
    wiring.background.append(
        periodically(lambda: release_expired(deps, settings.expiry_batch), settings.expiry_interval_s, "expire stock")
    )
    wiring.consume(SUBSCRIPTIONS)
    servicer = InventoryServicer(deps)
    return wiring.runtime(
        inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"],
        lambda server: inventory_pb2_grpc.add_InventoryServiceServicer_to_server(servicer, server),
    )
