"""Transactional outbox: events are rows written with the business change; a relay publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.broker import Broker
from services.chassis.context import REQUEST_ID_HEADER, request_id_var
from services.chassis.events import spec_of
from services.chassis.metrics import BACKGROUND, WORK
from services.chassis.protoconv import utcnow
from services.chassis.telemetry import inject

log = logging.getLogger("novatrek.outbox")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Index("idx_outbox_created", "created_at"),
        info={"support": True},  # plumbing, not the context's data (the portal lists it apart)
    )


def outbox_row(event: Message, source: str, occurred: datetime) -> dict[str, Any]:
    """The row for one event; its id is the CloudEvents id and the JetStream Nats-Msg-Id."""
    spec, event_id = spec_of(event), str(uuid.uuid4())
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-type": spec.ce_type,
        "ce-source": source,
        "ce-time": occurred.isoformat(),
        "content-type": "application/protobuf",
        "ce-dataschema": f"proto:{spec.full_name}",
        "Nats-Msg-Id": event_id,
    }
    if rid := request_id_var.get():
        headers[REQUEST_ID_HEADER] = rid
    headers.update(inject())  # the consumer's span continues this trace
    return {
        "id": uuid.UUID(event_id),
        "subject": spec.subject,
        "payload": event.SerializeToString(),
        "headers": headers,
    }


class OutboxRelay:
    """Publishes outbox rows in order, deletes them once JetStream acked; on failure backs off and
    retries forever (a row is never dropped). `FOR UPDATE SKIP LOCKED` lets replicas share the work."""

    def __init__(
        self,
        engine: AsyncEngine,
        table: sa.Table,
        broker: Broker,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.engine, self.table, self.broker = engine, table, broker
        self.batch_size, self.poll_interval_s, self.max_backoff_s = batch_size, poll_interval_s, max_backoff_s
        self._wake = asyncio.Event()
        # Built once, run with parameters.
        t = table
        self._waiting = (
            sa.select(t.c.id, t.c.subject, t.c.payload, t.c.headers)
            .order_by(t.c.created_at, t.c.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        )
        self._published = sa.delete(t).where(t.c.id.in_(sa.bindparam("ids", expanding=True)))
        self._failed = (
            sa.update(t)
            .where(t.c.id == sa.bindparam("failed_id"))
            .values(attempts=t.c.attempts + 1, last_error=sa.bindparam("error"))
        )

    def kick(self) -> None:
        """Called after a commit that wrote events, so they go out without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self.drain()
                backoff = 0.1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: keep the rows, try again later
                log.warning("outbox relay stalled; backing off", extra={"error": repr(exc), "backoff_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    async def drain(self) -> None:
        """Publishes what is waiting: batch after batch until one comes back short (a short batch took
        every row there was, so no empty drain follows it: one transaction per wake-up, DESIGN §8)."""
        while await self.drain_batch() == self.batch_size:
            pass

    async def drain_batch(self) -> int:
        """Publishes up to one batch; returns how many went out. Raises after recording a failure."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(self._waiting)).all()
            published, failure = [], None
            for row in rows:
                try:
                    await self.broker.publish(row.subject, row.payload, row.headers)
                except Exception as exc:
                    failure = (row.id, exc)
                    break
                published.append(row.id)
            if published:
                WORK.labels(self.broker.name, BACKGROUND, "publish").inc(len(published))
                await conn.execute(self._published, {"ids": published})
            if failure:
                await conn.execute(self._failed, {"failed_id": failure[0], "error": repr(failure[1])[:500]})
        if failure:
            raise failure[1]
        return len(published)

    async def backlog(self) -> tuple[int, float]:
        """Rows waiting and the age in seconds of the oldest (0 when none), for the metrics."""
        async with self.engine.connect() as conn:
            count, oldest = (await conn.execute(sa.select(sa.func.count(), sa.func.min(self.table.c.created_at)))).one()
        return count, (utcnow() - oldest).total_seconds() if oldest else 0.0
