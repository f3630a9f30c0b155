"""NATS JetStream connection that survives outages: connects in the background, reconnects forever."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError

from services.chassis.events import stream_subjects

DLQ_STREAM, DLQ_PREFIX = "NOVATREK_DLQ", "novatrek.dlq"

log = logging.getLogger("novatrek.broker")
DUPLICATE_WINDOW_S = 600.0  # Nats-Msg-Id de-duplication window; longer than any relay retry gap
STREAM_MAX_AGE_S = 7 * 24 * 3600.0


class BrokerUnavailable(Exception):
    pass


class Broker:
    def __init__(self, url: str, name: str, publish_timeout_s: float = 3.0, stream_replicas: int = 1) -> None:
        self.url, self.name, self.publish_timeout_s, self.stream_replicas = (
            url,
            name,
            publish_timeout_s,
            stream_replicas,
        )
        self.nc: nats.NATS | None = None
        self._streams_ready = False

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def connect(self, retry_s: float = 0.5) -> None:
        """Returns once connected; until then retries (NATS may come up after us)."""
        while self.nc is None:
            try:
                self.nc = await nats.connect(
                    self.url,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    error_cb=self._on_error,
                )
            except (TimeoutError, OSError, nats.errors.Error) as exc:
                log.warning("nats connect failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(retry_s)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    async def wait_connected(self, poll_s: float = 0.2) -> None:
        while not self.connected:  # noqa: ASYNC110 - nats-py offers no event to wait on
            await asyncio.sleep(poll_s)

    async def ensure_streams(self) -> None:
        """Declares one stream per event domain and the dead-letter stream; idempotent, updates a
        stream whose config drifted."""
        js = self.jetstream()
        for name, subjects in {**stream_subjects(), DLQ_STREAM: [f"{DLQ_PREFIX}.>"]}.items():
            config = StreamConfig(
                name=name,
                subjects=subjects,
                duplicate_window=DUPLICATE_WINDOW_S,
                max_age=STREAM_MAX_AGE_S,
                num_replicas=self.stream_replicas,
            )
            try:
                await js.add_stream(config)
            except BadRequestError:
                await js.update_stream(config)
        self._streams_ready = True

    def jetstream(self) -> JetStreamContext:
        if self.nc is None:
            raise BrokerUnavailable("not connected to NATS")
        return self.nc.jetstream()

    @staticmethod
    def stream_of(subject: str) -> str:
        return next(name for name, subjects in stream_subjects().items() if subject.startswith(subjects[0][:-1]))

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        if not self.connected:
            raise BrokerUnavailable("not connected to NATS")
        if not self._streams_ready:
            await self.ensure_streams()
        await self.jetstream().publish(subject, payload, headers=headers, timeout=self.publish_timeout_s)

    async def close(self, flush_timeout_s: float = 2.0) -> None:
        """Flush, then close. No drain: every publish already awaited its JetStream ack, and a drain
        would wait on the open pull subscriptions of the consumers."""
        if self.nc is not None:
            try:
                await self.nc.flush(timeout=flush_timeout_s)  # type: ignore[arg-type]  # annotated int, used as seconds
            except (TimeoutError, nats.errors.Error, OSError):
                log.debug("flush before close failed; closing anyway")  # every publish was acked already
            await self.nc.close()
