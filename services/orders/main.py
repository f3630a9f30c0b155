"""orders: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.orders.v1 import orders_pb2, orders_pb2_grpc

from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.orders.config import OrderSettings
from services.orders.db import OrderUnitOfWork, metadata
from services.orders.handlers import Deps
from services.orders.servicer import OrderServicer

NAME = "orders"


def build(settings: OrderSettings | None = None) -> ServiceRuntime:
    settings = settings or OrderSettings()
    wiring = Wiring(NAME, settings, OrderUnitOfWork, metadata, publishes_events=True)
    servicer = OrderServicer(Deps(uow=wiring.uow), wiring.tokens)
    return wiring.runtime(
        orders_pb2.DESCRIPTOR.services_by_name["OrderService"],
        lambda server: orders_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server),
    )
