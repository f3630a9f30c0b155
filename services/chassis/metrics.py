"""Prometheus metrics of every service, served at /metrics on `metrics_port` (0: off)."""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger("novatrek.metrics")

RPC_REQUESTS = Counter("novatrek_rpc_server_requests_total", "RPCs handled", ["service", "method", "code"])
RPC_SECONDS = Histogram(
    "novatrek_rpc_server_duration_seconds",
    "RPC latency",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_POOL = Gauge("novatrek_db_pool_connections", "Database pool connections", ["service", "state"])
OUTBOX_PENDING = Gauge("novatrek_outbox_pending_events", "Outbox rows not yet published", ["service"])
OUTBOX_LAG = Gauge("novatrek_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])
CONSUMER_PENDING = Gauge(
    "novatrek_consumer_pending_messages", "Messages not yet acknowledged by a durable consumer", ["service", "durable"]
)
EVENTS_HANDLED = Counter(
    "novatrek_events_handled_total", "Events taken from JetStream", ["service", "durable", "outcome"]
)
DEAD_LETTERS = Counter(
    "novatrek_dead_letters_total", "Events parked on the dead-letter subject", ["service", "durable"]
)


def serve_metrics(port: int, host: str = "0.0.0.0") -> WSGIServer | None:
    """Starts the /metrics HTTP endpoint in a thread; returns its server (None when off)."""
    if not port:
        return None
    server, _thread = start_http_server(port, addr=host)
    log.info("metrics served", extra={"port": port})
    return server
