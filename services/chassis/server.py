"""grpc.aio server bootstrap: call handling, health, reflection, background tasks, graceful stop."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.broker import Broker
from services.chassis.config import ServiceSettings
from services.chassis.db import database_reachable
from services.chassis.health import Check, HealthMonitor
from services.chassis.interceptors import ServerCalls
from services.chassis.metrics import serve_metrics
from services.chassis.periodic import BackgroundJob

log = logging.getLogger("novatrek.server")
_STEP_S = 5.0  # the longest any shutdown step may take (beyond the gRPC grace period)


async def _bounded(step: str, awaitable: Awaitable[Any], timeout_s: float = _STEP_S) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        log.error("shutdown step overran; going on", extra={"step": step, "timeout_s": timeout_s})


class _HealthWithPid(health.aio.HealthServicer):  # type: ignore[misc]  # grpcio-health ships no types
    """Health checks say which process answered (trailing `novatrek-pid`): with several workers on
    one port, how an operator (and the tests) see that connections reach each of them."""

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        context.set_trailing_metadata((("novatrek-pid", str(os.getpid())),))
        return await super().Check(request, context)


@dataclass
class ServiceRuntime:
    """Everything one service process runs. `main.py` of each context builds one."""

    name: str
    settings: ServiceSettings
    service_names: list[str]
    register: Callable[[grpc.aio.Server], None]
    engine: AsyncEngine
    broker: Broker | None = None
    background: list[BackgroundJob] = field(default_factory=list)
    # Released last, after in-flight calls finished (outbound channels, clients).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    server: grpc.aio.Server | None = None
    port: int = 0
    health: HealthMonitor | None = None
    metrics_server: WSGIServer | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def _build_server(self) -> tuple[grpc.aio.Server, HealthMonitor]:
        s = self.settings
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", s.max_message_bytes),
                ("grpc.max_send_message_length", s.max_message_bytes),
                # A taken port is an error, not a silent second listener; only the workers that
                # `novatrek serve --processes` starts share theirs (cli/workers.py).
                ("grpc.so_reuseport", 1 if s.reuse_port else 0),
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
                # Clients reconnect (and re-resolve) every few minutes, so new replicas get traffic.
                ("grpc.max_connection_age_ms", int(s.max_connection_age_s * 1000)),
                ("grpc.max_connection_age_grace_ms", int(s.shutdown_grace_s * 1000)),
            ],
        )
        # Every handler is wrapped as it registers (interceptors.py says why not an interceptor).
        calls = ServerCalls(
            self.name, access_log=s.access_log, max_active=s.max_active_rpcs, max_calls=s.max_concurrent_rpcs
        )
        registrar = calls.registrar(server)
        self.register(registrar)
        health_servicer = _HealthWithPid()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registrar)
        checks: dict[str, Check] = {"database": lambda: database_reachable(self.engine)}
        if self.broker is not None:
            checks["broker"] = self._broker_connected
        monitor = HealthMonitor(health_servicer, self.service_names, checks, interval_s=s.health_interval_s)
        names = [
            *self.service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        reflection.enable_server_reflection(names, registrar)
        return server, monitor

    async def _broker_connected(self) -> bool:
        return self.broker is not None and self.broker.connected

    async def start(self) -> int:
        server, monitor = self.server, self.health = self._build_server()
        self.port = server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.port == 0:
            raise RuntimeError(f"{self.name}: cannot bind {self.settings.host}:{self.settings.port}")
        await server.start()
        self.metrics_server = serve_metrics(self.settings.metrics_port, self.settings.host)
        await monitor.alive()
        await monitor.probe()
        jobs = [monitor.run, *self.background]
        if self.broker is not None:
            jobs.insert(0, self._connect_broker)
        self._tasks = [
            asyncio.create_task(job(), name=f"{self.name}:{getattr(job, '__qualname__', job)}") for job in jobs
        ]
        log.info("serving", extra={"service": self.name, "port": self.port})
        return self.port

    async def _connect_broker(self) -> None:
        if self.broker is None:  # scheduled only with one
            return
        await self.broker.connect()
        try:
            await self.broker.ensure_streams()
        except Exception as exc:  # the relay declares them on its first publish instead
            log.warning("could not declare streams yet", extra={"error": repr(exc)})

    async def stop(self) -> None:
        """Stop accepting, let in-flight calls finish within the grace period, then release. Every
        step is bounded: a stop that cannot finish one (a stuck connection) logs it and goes on."""
        if self.health is not None:
            await self.health.shutting_down()
        if self.server is not None:
            await _bounded(
                "grpc server",
                self.server.stop(self.settings.shutdown_grace_s),
                self.settings.shutdown_grace_s + _STEP_S,
            )
        for task in self._tasks:
            task.cancel()
        await _bounded("background tasks", asyncio.gather(*self._tasks, return_exceptions=True))
        for close in self.closers:
            await _bounded(f"closer {getattr(close, '__qualname__', close)}", close())
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
        if self.broker is not None:
            await _bounded("broker", self.broker.close())
        await _bounded("database pool", self.engine.dispose())
        log.info("stopped", extra={"service": self.name})

    async def run_until_signal(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        await stop.wait()
        await self.stop()
