"""gateway: builds both listeners over shared upstream channels and serves them with uvicorn.

`build(settings)` wires everything (the only place that does); `run(settings)` serves until
cancelled or SIGTERM/SIGINT; `serve()` is the blocking entry point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette

from services.chassis.logging import configure_logging
from services.gateway.app import Surface, build_app
from services.gateway.bindings import bindings_for, idempotent_methods
from services.gateway.client_surface import ClientSurface
from services.gateway.config import GatewaySettings
from services.gateway.ratelimit import RateLimiter
from services.gateway.upstreams import Upstreams

NAME = "gateway"
log = logging.getLogger("novatrek.gateway")


def _listening_socket(host: str, port: int) -> socket.socket:
    """A taken port is an error (no SO_REUSEPORT). The protocol is named: asyncio turns Nagle off
    (TCP_NODELAY) only on connections whose socket says IPPROTO_TCP, and `socket.create_server`'s
    say 0 — every response on a kept-alive connection then waited ~40 ms for a delayed ACK."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as create_server: restart over TIME_WAIT
        sock.bind((host, port))
        sock.listen(socket.SOMAXCONN)
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # `run` owns the signals, for both listeners at once


@dataclass
class Listener:
    name: str
    app: Starlette
    host: str
    port: int
    settings: GatewaySettings
    server: _Server | None = None
    task: asyncio.Task | None = None

    async def start(self) -> int:
        sock = _listening_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        s = self.settings
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            proxy_headers=bool(s.trusted_proxies),
            forwarded_allow_ips=s.trusted_proxies or None,
            limit_concurrency=s.max_concurrent_requests,
            timeout_graceful_shutdown=s.shutdown_grace_s,  # type: ignore[arg-type]  # annotated int, used as seconds
        )
        self.server = _Server(config)
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]), name=f"{NAME}:{self.name}")
        while not self.server.started:
            if self.task.done():
                await self.task
                raise RuntimeError(f"{NAME} {self.name} listener did not start")
            await asyncio.sleep(0.01)
        log.info("serving", extra={"listener": self.name, "host": self.host, "port": self.port})
        return self.port

    async def stop(self) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            await asyncio.gather(self.task, return_exceptions=True)


@dataclass
class Gateway:
    settings: GatewaySettings
    upstreams: Upstreams
    listeners: dict[str, Listener] = field(default_factory=dict)

    def app(self, surface: str) -> Starlette:
        return self.listeners[surface].app

    async def start(self) -> dict[str, int]:
        """Starts every listener; returns the bound port of each (port 0 picks a free one)."""
        try:
            return {name: await listener.start() for name, listener in self.listeners.items()}
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for listener in self.listeners.values():
            await listener.stop()
        await self.upstreams.close()


def build(settings: GatewaySettings | None = None, clock: Callable[[], float] = time.monotonic) -> Gateway:
    """`clock`: the seconds the rate limits count in (a test moves it on past a `Retry-After`)."""
    settings = settings or GatewaySettings()
    surfaces = [
        Surface("public", settings.public_services, bindings_for(settings.public_services), "NovaTrek public API")
    ]
    if settings.internal_enabled:
        surfaces.append(
            Surface(
                "internal",
                settings.internal_services,
                bindings_for(settings.internal_services),
                "NovaTrek internal REST API",
            )
        )
    # The client surface of each listener: each route's access (start-up refuses a protected request
    # without user_id, before any channel is opened) and the guest path's buckets, per listener.
    clients = {surface.name: ClientSurface(settings, surface.bindings, clock) for surface in surfaces}
    for name, client in clients.items():
        if client.protects and client.verifier is None:
            log.warning(
                "no client_token_key: the client surface's protected routes answer 401 CLIENT_AUTH_NOT_CONFIGURED",
                extra={"listener": name, "prefix": settings.client_protected_prefix},
            )
    exposed = {name for surface in surfaces for name in surface.services}
    every_binding = [b for surface in surfaces for b in surface.bindings]
    upstreams = Upstreams(
        {name: settings.upstreams[name] for name in sorted(exposed)}, idempotent_methods(every_binding)
    )
    gateway = Gateway(settings, upstreams)
    for surface in surfaces:
        # Each listener has its own buckets: internal traffic never eats a partner's allowance.
        limiter = (
            RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst, clock, settings.rate_limit_max_clients)
            if settings.rate_limit_enabled
            else None
        )
        host, port = (
            (settings.host, settings.port)
            if surface.name == "public"
            else (settings.internal_host, settings.internal_port)
        )
        app = build_app(surface, settings, upstreams, limiter, clients[surface.name])
        gateway.listeners[surface.name] = Listener(surface.name, app, host, port, settings)
    return gateway


async def _signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def run(settings: GatewaySettings | None = None) -> None:
    """Serves until cancelled or signalled, then drains in-flight requests and closes the channels."""
    settings = settings or GatewaySettings()
    configure_logging(NAME, settings.log_level)
    gateway = build(settings)
    await gateway.start()
    try:
        await _signalled()
    finally:
        await gateway.stop()
        log.info("stopped")


def serve() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    serve()
