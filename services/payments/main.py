"""payments: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.payments.v1 import payments_pb2, payments_pb2_grpc

from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.payments.config import PaymentSettings
from services.payments.consumers import subscriptions
from services.payments.db import PaymentUnitOfWork, metadata
from services.payments.handlers import Deps
from services.payments.ports import PaymentProcessor
from services.payments.processor import WithDeadline, processor_named
from services.payments.servicer import PaymentServicer

NAME = "payments"


def build(settings: PaymentSettings | None = None, processor: PaymentProcessor | None = None) -> ServiceRuntime:
    """`processor` replaces the one the settings name (tests hand in a FakeProcessor they look at)."""
    settings = settings or PaymentSettings()
    wiring = Wiring(NAME, settings, PaymentUnitOfWork, metadata, publishes_events=True)
    processor = processor or processor_named(settings.processor, settings.fake_processor_delay_s)
    deps = Deps(uow=wiring.uow, processor=WithDeadline(processor, settings.processor_deadline_s))
    wiring.consume(subscriptions(deps))
    servicer = PaymentServicer(deps, wiring.tokens)
    return wiring.runtime(
        payments_pb2.DESCRIPTOR.services_by_name["PaymentService"],
        lambda server: payments_pb2_grpc.add_PaymentServiceServicer_to_server(servicer, server),
    )
