"""notifications: wire adapters into the servicer, consumers and delivery worker (the only place that does)."""

from __future__ import annotations

from novatrek.notifications.v1 import notifications_pb2, notifications_pb2_grpc

from clients.partners import PartnersClient
from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.notifications.adapters import PartnerWebhooks
from services.notifications.config import NotificationSettings
from services.notifications.consumers import subscriptions
from services.notifications.db import NotificationUnitOfWork, metadata
from services.notifications.delivery import WebhookSender
from services.notifications.domain import RetryPolicy
from services.notifications.handlers import Deps
from services.notifications.servicer import NotificationServicer
from services.notifications.worker import DeliveryWorker

NAME = "notifications"


def build(settings: NotificationSettings | None = None) -> ServiceRuntime:
    s = settings or NotificationSettings()
    # It publishes nothing (no outbox); the broker is for its consumers.
    wiring = Wiring(NAME, s, NotificationUnitOfWork, metadata, publishes_events=True)
    partners = PartnersClient(s.partners_addr, s.partners_token.get_secret_value(), s.outbound_timeout_s)
    sender = WebhookSender(s.webhook_timeout_s)
    policy = RetryPolicy(s.delivery_backoff_base_s, s.delivery_backoff_max_s, s.delivery_max_attempts)
    worker = DeliveryWorker(
        wiring.uow,
        PartnerWebhooks(partners, s.webhook_cache_ttl_s),
        sender,
        policy,
        batch=s.delivery_batch,
        poll_interval_s=s.delivery_poll_interval_s,
        lease_s=s.delivery_lease_s,
    )
    wiring.background.append(worker.run)
    wiring.consume(subscriptions(worker.kick))
    servicer = NotificationServicer(Deps(uow=wiring.uow, wake=worker.kick), wiring.tokens)
    runtime = wiring.runtime(
        notifications_pb2.DESCRIPTOR.services_by_name["NotificationService"],
        lambda server: notifications_pb2_grpc.add_NotificationServiceServicer_to_server(servicer, server),
    )
    runtime.closers += [partners.close, sender.close]
    return runtime
