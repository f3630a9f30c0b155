"""The adapters every context wires the same way: engine, broker, outbox relay, unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
import sqlalchemy as sa
from google.protobuf.descriptor import ServiceDescriptor
from sqlalchemy.pool import QueuePool

from clients.channel import configure_connections
from services.chassis.broker import Broker
from services.chassis.config import ServiceSettings
from services.chassis.consumer import Consumer, Subscription
from services.chassis.db import UnitOfWork, create_engine
from services.chassis.logging import configure_logging
from services.chassis.metrics import DB_POOL, OUTBOX_LAG, OUTBOX_PENDING
from services.chassis.outbox import OutboxRelay, outbox_table
from services.chassis.pagination import PageTokens
from services.chassis.periodic import BackgroundJob, periodically
from services.chassis.server import ServiceRuntime
from services.chassis.telemetry import configure_tracing


@dataclass
class Wiring:
    name: str
    settings: ServiceSettings
    uow_cls: type[UnitOfWork]
    metadata: sa.MetaData
    # Publishing (outbox relay) or consuming events needs the broker.
    publishes_events: bool = False
    background: list[BackgroundJob] = field(default_factory=list)

    def __post_init__(self) -> None:
        configure_logging(self.name, self.settings.log_level)
        configure_tracing(self.name, self.settings.otlp_endpoint)
        configure_connections(self.settings.outbound_connections)
        self.engine = create_engine(self.settings)
        self.tokens = PageTokens(self.settings.page_token_secret.get_secret_value())
        self.broker = (
            Broker(self.settings.nats_url, self.name, stream_replicas=self.settings.stream_replicas)
            if self.publishes_events
            else None
        )
        self.outbox = self.metadata.tables.get(f"{self.metadata.schema}.outbox")
        # A consumer that publishes nothing has no outbox table, and so no relay.
        self.relay = (
            OutboxRelay(self.engine, self.outbox, self.broker) if self.broker and self.outbox is not None else None
        )
        if self.relay:
            self.background.append(self.relay.run)
        self.consumers: list[Consumer] = []
        self.background.append(periodically(self.sample_gauges, self.settings.metrics_interval_s, "sample gauges"))

    async def sample_gauges(self) -> None:
        pool = cast(QueuePool, self.engine.pool)  # create_engine sizes a queue pool
        DB_POOL.labels(self.name, "checked_out").set(pool.checkedout())
        DB_POOL.labels(self.name, "open").set(pool.checkedout() + pool.checkedin())
        if self.relay is not None:
            pending, lag = await self.relay.backlog()
            OUTBOX_PENDING.labels(self.name).set(pending)
            OUTBOX_LAG.labels(self.name).set(lag)
        if self.broker is not None and self.broker.connected:
            for consumer in self.consumers:
                await consumer.sample_lag()

    def consume(self, subscriptions: list[Subscription[Any]]) -> Consumer:
        """Runs durable consumers for these events in the background (needs the `inbox` table)."""
        if self.broker is None:
            raise RuntimeError(f"{self.name} consumes events: wire it with publishes_events=True")
        s = self.settings
        inbox = self.metadata.tables[f"{self.metadata.schema}.inbox"]
        consumer = Consumer(
            self.name,
            self.broker,
            self.uow,
            inbox,
            subscriptions,
            ack_wait_s=s.consumer_ack_wait_s,
            max_deliver=s.consumer_max_deliver,
            retry_base_s=s.consumer_retry_base_s,
            durable_prefix=s.consumer_durable_prefix,
            inactive_threshold_s=s.consumer_inactive_threshold_s,
            start_lookback_s=s.consumer_start_lookback_s,
        )
        self.background.append(consumer.run)
        self.consumers.append(consumer)
        return consumer

    def uow(self, read_only: bool = False, autocommit: bool = False) -> UnitOfWork:
        """A unit of work; `read_only` and `autocommit` ones run each statement on its own (see UnitOfWork)."""
        return self.uow_cls(
            self.engine,
            self.outbox,
            source=f"//novatrek.io/{self.name}",
            relay=self.relay,
            read_only=read_only,
            autocommit=autocommit,
        )

    def runtime(
        self, service: ServiceDescriptor, register: Callable[[grpc.aio.Server], None], *more: ServiceDescriptor
    ) -> ServiceRuntime:
        """`register` adds `service` (and `more` services of the context, for health and reflection)."""
        return ServiceRuntime(
            name=self.name,
            settings=self.settings,
            service_names=[service.full_name, *(m.full_name for m in more)],
            register=register,
            engine=self.engine,
            broker=self.broker,
            background=self.background,
        )


__all__ = ["Wiring", "outbox_table"]
