"""reservations: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.reservations.v1 import reservations_pb2, reservations_pb2_grpc

from clients.catalog import CatalogClient
from clients.guests import GuestsClient
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.reservations.adapters import GuestDirectoryOverGrpc, SeatInventoryOverGrpc
from services.reservations.config import ReservationSettings
from services.reservations.consumers import SUBSCRIPTIONS
from services.reservations.db import metadata
from services.reservations.handlers import Deps
from services.reservations.holds import SeatHoldsOverQueue
from services.reservations.partitions import PartitionMaintainer
from services.reservations.releases import SeatReleaser
from services.reservations.repositories import ReservationUnitOfWork
from services.reservations.servicer import ReservationServicer

NAME = "reservations"


def build(settings: ReservationSettings | None = None) -> ServiceRuntime:
    settings = settings or ReservationSettings()
    wiring = Wiring(NAME, settings, ReservationUnitOfWork, metadata, publishes_events=True)
    guests = GuestsClient(settings.guests_addr, settings.outbound_timeout_s)
    catalog = CatalogClient(settings.catalog_addr, settings.outbound_timeout_s)
    seats = SeatInventoryOverGrpc(catalog)
    # a claim outlives the release call it covers (whose deadline is the outbound timeout) tenfold
    releaser = SeatReleaser(
        wiring.engine,
        seats,
        grace_s=settings.hold_grace_s,
        lease_s=10 * settings.outbound_timeout_s,
        announce_wait_s=settings.outbound_timeout_s,
    )
    wiring.background += [releaser.run, PartitionMaintainer(wiring.engine, settings.partitions_months_ahead).run]
    wiring.consume(SUBSCRIPTIONS)
    deps = Deps(uow=wiring.uow, guests=GuestDirectoryOverGrpc(guests), holds=SeatHoldsOverQueue(seats, releaser))
    servicer = ReservationServicer(deps, wiring.tokens)
    runtime = wiring.runtime(
        reservations_pb2.DESCRIPTOR.services_by_name["ReservationService"],
        lambda server: reservations_pb2_grpc.add_ReservationServiceServicer_to_server(servicer, server),
    )
    runtime.closers += [guests.close, catalog.close]
    return runtime
