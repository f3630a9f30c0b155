"""Durable JetStream pull consumers with explicit ack. A handler's effect and the event id in the
`inbox` table commit together, so a redelivered event is acknowledged without a second effect.
After `max_deliver` failed deliveries the message is parked on the dead-letter subject
`novatrek.dlq.<service>.<subject>` with the failure, and acknowledged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar

import nats.errors
import sqlalchemy as sa
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.chassis.broker import DLQ_PREFIX, Broker
from services.chassis.context import REQUEST_ID_HEADER, request_id_var
from services.chassis.db import UnitOfWork
from services.chassis.events import spec_of
from services.chassis.metrics import CONSUMER_PENDING, DEAD_LETTERS, EVENTS_HANDLED
from services.chassis.protoconv import utcnow
from services.chassis.telemetry import SpanKind, context_from, mark_error, tracer
from services.chassis.uow import UnitOfWorkFactory

log = logging.getLogger("novatrek.consumer")
Event = TypeVar("Event", bound=Message)


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        info={"support": True},  # plumbing, not the context's data (the portal lists it apart)
    )


@dataclass(frozen=True)
class Subscription(Generic[Event]):
    """`handler(event, uow, headers)` runs inside the unit of work (the context's own subclass of
    UnitOfWork) that also records the event id."""

    event: type[Event]
    durable: str
    handler: Callable[[Event, Any, dict[str, str]], Awaitable[None]]

    @property
    def subject(self) -> str:
        return spec_of(self.event).subject


def dead_letter_subject(service: str, subject: str) -> str:
    return f"{DLQ_PREFIX}.{service}.{subject}"


class Consumer:
    def __init__(
        self,
        service: str,
        broker: Broker,
        uow_factory: UnitOfWorkFactory[UnitOfWork],
        inbox: sa.Table,
        subscriptions: list[Subscription[Any]],
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
        batch: int = 20,
        retry_base_s: float = 0.5,
        durable_prefix: str = "",
        inactive_threshold_s: float | None = None,
        start_lookback_s: float | None = None,
    ) -> None:
        self.service, self.broker, self.uow_factory, self.inbox = service, broker, uow_factory, inbox
        self.subscriptions, self.ack_wait_s, self.max_deliver = subscriptions, ack_wait_s, max_deliver
        self.batch, self.retry_base_s = batch, retry_base_s
        self.durable_prefix, self.inactive_threshold_s = durable_prefix, inactive_threshold_s
        # A new durable starts at the stream's first retained event, or this long before we started.
        self.start = None if start_lookback_s is None else utcnow() - timedelta(seconds=start_lookback_s)
        self.tracer = tracer(service)

    async def run(self) -> None:
        await asyncio.gather(*(self._consume(s) for s in self.subscriptions))

    async def _consume(self, sub: Subscription[Any]) -> None:
        while True:  # (re)subscribe whenever the broker comes back
            try:
                await self.broker.wait_connected()
                await self.broker.ensure_streams()
                js = self.broker.jetstream()
                # Unlimited server-side redelivery: we count deliveries and dead-letter ourselves,
                # so a message is never silently dropped by the server.
                durable = f"{self.durable_prefix}{sub.durable}"
                start = (
                    {"deliver_policy": DeliverPolicy.ALL}
                    if self.start is None
                    else {"deliver_policy": DeliverPolicy.BY_START_TIME, "opt_start_time": self.start}
                )
                config = ConsumerConfig(
                    durable_name=durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=self.ack_wait_s,
                    max_deliver=-1,
                    filter_subject=sub.subject,
                    inactive_threshold=self.inactive_threshold_s,
                    **start,
                )
                pull = await js.pull_subscribe(sub.subject, durable=durable, config=config)
                while True:
                    try:
                        messages = await pull.fetch(self.batch, timeout=1.0)
                    except nats.errors.TimeoutError:
                        continue
                    for msg in messages:
                        await self.deliver(sub, msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer interrupted; resubscribing", extra={"durable": sub.durable, "error": repr(exc)})
                await asyncio.sleep(1.0)

    async def deliver(self, sub: Subscription[Any], msg: Msg) -> None:
        headers = dict(msg.headers or {})
        event_id = headers.get("ce-id") or f"seq:{msg.metadata.sequence.stream}"
        request_id_var.set(headers.get(REQUEST_ID_HEADER, ""))
        with self.tracer.start_as_current_span(
            f"{msg.subject} process",
            context=context_from(headers.items()),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.destination.name": msg.subject},
        ) as span:
            try:
                event = sub.event.FromString(msg.data)
                async with self.uow_factory() as uow:
                    first = await self._first_time(uow.conn, event_id, sub)
                    if first:
                        await sub.handler(event, uow, headers)
            except Exception as exc:
                mark_error(span, repr(exc))
                await self._failed(sub, msg, headers, exc)
                return
        EVENTS_HANDLED.labels(self.service, sub.durable, "applied" if first else "duplicate").inc()
        await msg.ack()

    async def sample_lag(self) -> None:
        """Consumer lag for the metrics: messages not yet delivered or not yet acknowledged."""
        js = self.broker.jetstream()
        for sub in self.subscriptions:
            durable = f"{self.durable_prefix}{sub.durable}"
            info = await js.consumer_info(self.broker.stream_of(sub.subject), durable)
            CONSUMER_PENDING.labels(self.service, sub.durable).set(info.num_pending + info.num_ack_pending)

    async def _first_time(self, conn: AsyncConnection, event_id: str, sub: Subscription[Any]) -> bool:
        row = {"event_id": event_id, "subject": sub.subject, "consumer": sub.durable, "handled_at": utcnow()}
        return bool((await conn.execute(pg_insert(self.inbox).values(row).on_conflict_do_nothing())).rowcount)

    async def _failed(self, sub: Subscription[Any], msg: Msg, headers: dict[str, str], exc: Exception) -> None:
        deliveries = msg.metadata.num_delivered
        EVENTS_HANDLED.labels(self.service, sub.durable, "failed").inc()
        if deliveries < self.max_deliver:
            log.warning(
                "event handler failed; will redeliver",
                extra={"durable": sub.durable, "deliveries": deliveries, "error": repr(exc)},
            )
            await msg.nak(delay=self.retry_base_s * 2 ** (deliveries - 1))
            return
        event_id = headers.get("ce-id", msg.metadata.sequence.stream)
        parked = {
            **headers,
            "Nats-Msg-Id": f"dlq:{self.durable_prefix}{sub.durable}:{event_id}",
            "x-dlq-reason": repr(exc)[:500],
            "x-dlq-subject": msg.subject,
            "x-dlq-consumer": sub.durable,
            "x-dlq-deliveries": str(deliveries),
            "x-dlq-time": utcnow().isoformat(),
        }
        await self.broker.publish(dead_letter_subject(self.service, msg.subject), msg.data, parked)
        DEAD_LETTERS.labels(self.service, sub.durable).inc()
        log.error("event parked on the dead-letter subject", extra={"durable": sub.durable, "error": repr(exc)})
        await msg.ack()
