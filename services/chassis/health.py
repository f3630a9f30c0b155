"""grpc.health.v1 status that follows the service's dependencies (database, broker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from grpc_health.v1 import health, health_pb2

log = logging.getLogger("novatrek.health")
Check = Callable[[], Awaitable[bool]]
# Answers SERVING while the process runs, whatever its dependencies: what a liveness probe asks, so
# a database outage makes pods unready (no traffic) without restarting them.
LIVENESS = "novatrek.liveness"


class HealthMonitor:
    def __init__(
        self,
        servicer: health.aio.HealthServicer,
        service_names: list[str],
        checks: dict[str, Check],
        interval_s: float = 2.0,
        check_timeout_s: float = 2.0,
    ) -> None:
        self.servicer, self.service_names, self.checks = servicer, ["", *service_names], checks
        self.interval_s, self.check_timeout_s = interval_s, check_timeout_s
        self.serving: bool | None = None

    async def _passes(self, name: str, check: Check) -> bool:
        try:
            return bool(await asyncio.wait_for(check(), self.check_timeout_s))
        except Exception as exc:
            log.warning("health check failed", extra={"check": name, "error": repr(exc)})
            return False

    async def probe(self) -> bool:
        results = await asyncio.gather(*(self._passes(n, c) for n, c in self.checks.items()))
        serving = all(results)
        if serving != self.serving:
            status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
            for name in self.service_names:
                await self.servicer.set(name, status)
            log.info("health changed", extra={"serving": serving})
            self.serving = serving
        return serving

    async def run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(self.interval_s)

    async def alive(self) -> None:
        await self.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)

    async def shutting_down(self) -> None:
        for name in self.service_names:
            await self.servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
