"""Prometheus metrics of every service, served at /metrics on `metrics_port` (0: off)."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any
from wsgiref.simple_server import WSGIServer

import sqlalchemy as sa
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

# What a request costs (DESIGN §8), counted where it is spent: `unit` is rpc (calls served), statement,
# transaction (every one the database runs, an autocommit statement included), commit (those that
# wrote: committed explicit transactions and autocommit writes) or publish (events sent by the relay).
# `origin` is "call" for work done to answer a call (the call and what it runs, its saga included),
# "background" for loops, consumers and the calls they make: the bench and the tests count a
# request's own work by `origin="call"`, deterministically, whatever else the process is doing.
WORK = Counter("novatrek_work_total", "Units of work done", ["service", "origin", "unit"])
ORIGIN_HEADER = "x-novatrek-origin"  # sent on calls made by background work, so the callee's work is too
CALL, BACKGROUND = "call", "background"
# The service whose call the current work answers, and the origin; set by the call wrapper.
work_var: ContextVar[tuple[str, str]] = ContextVar("work", default=("", BACKGROUND))


def origin_metadata() -> tuple[tuple[str, str], ...]:
    """Metadata for an outbound call: marks calls that no inbound call is waiting for."""
    return () if work_var.get()[1] == CALL else ((ORIGIN_HEADER, BACKGROUND),)


def count_database_work(engine: Any) -> None:
    """Counts statements, transactions and commits of `engine` (an AsyncEngine) by the work they
    were run for. An autocommit statement is a transaction of its own, a commit if it writes."""
    sync = engine.sync_engine

    def autocommit(conn: sa.Connection) -> bool:
        return bool(conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT")

    @sa.event.listens_for(sync, "before_cursor_execute")
    def statement(conn: sa.Connection, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        service, origin = work_var.get()
        WORK.labels(service, origin, "statement").inc()
        if autocommit(conn):
            WORK.labels(service, origin, "transaction").inc()
            if not _reads_only(sql):
                WORK.labels(service, origin, "commit").inc()

    @sa.event.listens_for(sync, "commit")
    def commit(conn: sa.Connection) -> None:
        if not autocommit(conn):
            service, origin = work_var.get()
            WORK.labels(service, origin, "transaction").inc()
            WORK.labels(service, origin, "commit").inc()

    @sa.event.listens_for(sync, "rollback")
    def rollback(conn: sa.Connection) -> None:
        if not autocommit(conn):
            WORK.labels(*work_var.get(), "transaction").inc()


def _reads_only(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("SELECT", "SHOW")) and "FOR UPDATE" not in sql


def serve_metrics(port: int, host: str = "0.0.0.0") -> WSGIServer | None:
    """Starts the /metrics HTTP endpoint in a thread; returns its server (None when off)."""
    if not port:
        return None
    server, _thread = start_http_server(port, addr=host)
    log.info("metrics served", extra={"port": port})
    return server
