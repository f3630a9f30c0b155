"""partner-integrations: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from novatrek.partners.v1 import partners_pb2, partners_pb2_grpc

from clients.channel import TypedClient
from clients.guests import GuestsClient
from clients.payments import PaymentsClient
from clients.reservations import ReservationsClient
from services.chassis.periodic import periodically
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaRunner
from services.chassis.saga_store import PgSagaStore
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.partners.adapters import CommissionLedgerOverGrpc, ReservationDeskOverGrpc
from services.partners.auth import Authenticator
from services.partners.config import PartnerSettings
from services.partners.db import metadata, sagas
from services.partners.handlers import Deps
from services.partners.pipeline import PipelinePorts, partner_booking_saga
from services.partners.repositories import PartnersUnitOfWork
from services.partners.servicer import PartnerServicer

NAME = "partner-integrations"


def build(settings: PartnerSettings | None = None, clock: Callable[[], datetime] = utcnow) -> ServiceRuntime:
    """`clock`: the time the handlers and the key check go by (a test moves it past a key's grace)."""
    s = settings or PartnerSettings()
    wiring = Wiring(NAME, s, PartnersUnitOfWork, metadata, publishes_events=True)
    guests = GuestsClient(s.guests_addr, s.outbound_timeout_s)
    reservations = ReservationsClient(s.reservations_addr, s.outbound_timeout_s)
    payments = PaymentsClient(s.payments_addr, s.outbound_timeout_s)
    clients: list[TypedClient] = [guests, reservations, payments]
    desk, ledger = ReservationDeskOverGrpc(reservations), CommissionLedgerOverGrpc(payments)
    ports = PipelinePorts(wiring.uow, guests, desk, ledger)
    saga = partner_booking_saga(ports)
    runner = SagaRunner(
        PgSagaStore(wiring.engine, sagas),
        {saga.name: saga},
        lease_s=s.saga_lease_s,
        recovery_interval_s=s.saga_recovery_interval_s,
        service=NAME,
    )
    deps = Deps(
        uow=wiring.uow,
        sagas=runner,
        reservations=desk,
        ledger=ledger,
        pepper=s.api_key_pepper.get_secret_value().encode(),
        key_grace=timedelta(seconds=s.key_grace_period_s),
        idempotency_retention=timedelta(seconds=s.idempotency_retention_s),
        clock=clock,
    )
    auth = Authenticator(wiring.uow, deps.pepper, s.admin_token.get_secret_value(), clock)
    servicer = PartnerServicer(deps, auth, wiring.tokens, s.pipeline_timeout_s)
    wiring.background += [
        runner.run_recovery,
        periodically(lambda: _purge_idempotency_keys(wiring.uow, clock), 3600, "purge idempotency keys"),
    ]
    runtime = wiring.runtime(
        partners_pb2.DESCRIPTOR.services_by_name["PartnerService"],
        lambda server: partners_pb2_grpc.add_PartnerServiceServicer_to_server(servicer, server),
    )
    runtime.closers += [c.close for c in clients]
    return runtime


async def _purge_idempotency_keys(uow_factory, clock: Callable[[], datetime]) -> None:
    async with uow_factory() as uow:
        await uow.idempotency.purge_expired(clock())
