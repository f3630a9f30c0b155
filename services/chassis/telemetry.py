"""OpenTelemetry tracing: W3C trace context carried in gRPC metadata and in event headers, so one
booking is one trace across services, the gateway and NATS. Spans are exported by OTLP when an
endpoint is configured; without one the API is a no-op that still passes the context on."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

log = logging.getLogger("novatrek.telemetry")
_configured = False
TRACE_HEADER = "traceparent"  # W3C trace context


def configure_tracing(service: str, otlp_endpoint: str) -> None:
    """Installs an SDK tracer provider exporting by OTLP/gRPC (once per process)."""
    global _configured
    if _configured or not otlp_endpoint:
        return
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True)))
    trace.set_tracer_provider(provider)
    _configured = True
    log.info("tracing exported by OTLP", extra={"endpoint": otlp_endpoint})


def tracer(service: str) -> trace.Tracer:
    # A proxy until a provider is set, so tracers made at import time start recording later too.
    return trace.get_tracer(f"novatrek.{service}")


def tracing_enabled() -> bool:
    """Whether a tracer provider records spans (OTLP, or a test's in-memory exporter). Without one a
    call that carries no trace context needs no span: there is nothing to continue or export."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def in_trace() -> bool:
    """Whether the current call continues a trace (a caller's context, even unrecorded here)."""
    return trace.get_current_span().get_span_context().is_valid


def context_from(pairs: Iterable[tuple[str, str]]) -> Context:
    """The remote parent carried by gRPC metadata or message headers (`traceparent`, `tracestate`)."""
    return propagate.extract({k.lower(): v for k, v in pairs if isinstance(v, str)})


def inject() -> dict[str, str]:
    """The current trace context as headers, for outbound metadata and outbox rows."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def mark_error(span: trace.Span, description: str) -> None:
    span.set_status(Status(StatusCode.ERROR, description))


__all__ = [
    "TRACE_HEADER",
    "SpanKind",
    "configure_tracing",
    "context_from",
    "in_trace",
    "inject",
    "mark_error",
    "tracer",
    "tracing_enabled",
]
