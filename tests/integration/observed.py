"""What the observability tests look at: a trace's finished spans, its orphans, the trace context an
event carries over NATS, and /metrics scraped until it shows what is wanted."""

from __future__ import annotations

import urllib.request
import uuid
from typing import Any

from google.protobuf.message import Message
from nats.aio.msg import Msg
from opentelemetry import trace

from services.chassis.broker import Broker
from services.chassis.events import spec_of
from tests.helpers import eventually


def spans_of(exported_spans, root) -> list:
    """The finished spans of `root`'s trace."""
    trace_id = root.get_span_context().trace_id
    return [s for s in exported_spans.get_finished_spans() if s.context.trace_id == trace_id]


def orphans(spans: list, root) -> list[str]:
    """Spans whose parent is not in the trace (the trace is not connected)."""
    ids = {s.context.span_id for s in spans}
    return [s.name for s in spans if s is not root and s.parent is not None and s.parent.span_id not in ids]


def consumer_events(spans: list, scope: str) -> list:
    """The spans of `scope`'s consumers (`novatrek.<service>`)."""
    return [s for s in spans if s.kind == trace.SpanKind.CONSUMER and s.instrumentation_scope.name == scope]


def _traceparent(headers: dict[str, str]) -> tuple[int, int] | None:
    """(trace id, parent span id) of a W3C `traceparent` header, if any."""
    parts = headers.get("traceparent", "").split("-")
    return (int(parts[1], 16), int(parts[2], 16)) if len(parts) == 4 else None


def parent_of(headers: dict[str, str]) -> int:
    """The span id an event's consumer would continue."""
    carried = _traceparent(headers)
    assert carried is not None, f"the event carries no trace context: {headers}"
    return carried[1]


class Published:
    """The headers of the events seen on NATS (a core subscription sees what JetStream stores)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def take(self, msg: Msg) -> None:
        self.seen.append((msg.subject, dict(msg.headers or {})))

    def of(self, trace_id: int, *subjects: str) -> dict[str, dict[str, str]] | None:
        """One event's headers per subject, of those in this trace; None until every subject has one."""
        found = {
            subject: headers
            for subject, headers in self.seen
            if (carried := _traceparent(headers)) is not None and carried[0] == trace_id
        }
        return found if all(s in found for s in subjects) else None

    @staticmethod
    async def send(nats_url: str, event: Message) -> None:
        """Publishes `event` as an outbox relay would (ce-id, Nats-Msg-Id), for a consumer to take."""
        broker, event_id = Broker(nats_url, "observability-test"), str(uuid.uuid4())
        await broker.connect()
        try:
            spec = spec_of(type(event))
            headers = {"ce-id": event_id, "ce-type": spec.ce_type, "Nats-Msg-Id": event_id}
            await broker.publish(spec.subject, event.SerializeToString(), headers)
        finally:
            await broker.close()


async def scrape(port: int, *wanted: str, timeout_s: float = 30.0) -> str:
    """The /metrics text once it shows every `wanted` line fragment."""

    async def body() -> Any:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        return text if all(w in text for w in wanted) else None

    return str(await eventually(body, timeout_s=timeout_s))
