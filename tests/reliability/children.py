"""The whole mesh as child processes, started the way `novatrek up` starts it
(`python -m services.cli.main serve <service>`, environment from `child_env`), and what the soak
samples from them: resident memory and open file descriptors per process, connections per database."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.cli.children import Child, child_env, launch, stop_children
from services.cli.databases import database_of
from services.cli.embedded import free_port
from services.cli.registry import REGISTRY
from tests.integration.notification_fixtures import FAST_DELIVERY
from tests.integration.partner_fixtures import ADMIN_TOKEN
from tests.reliability.ledger import rows

SERVICES = ["guest-profiles", "trip-catalog", "payments", "reservations", "partner-integrations", "notifications"]
POOL = {"db_pool_min": 4, "db_pool_max": 10}


def settings_env(name: str, prefix: str) -> dict[str, str]:
    """Per-service settings as environment: small pools, fast health, consumers of our own (a
    shared NATS), the admin token, quick deliveries."""
    spec = REGISTRY[name]
    values = {**POOL, "health_interval_s": 1.0, "consumer_durable_prefix": prefix, "consumer_inactive_threshold_s": 300}
    if name == "partner-integrations":
        values["admin_token"] = ADMIN_TOKEN
    if name == "notifications":
        values |= {"partners_token": ADMIN_TOKEN, **FAST_DELIVERY}
    return {spec.env(k): str(v) for k, v in values.items()}


@dataclass
class ChildMesh:
    children: list[Child]
    urls: dict[str, str]  # service -> database URL

    def address(self, name: str) -> str:
        return next(c.address for c in self.children if c.spec.name == name)

    def stop(self) -> None:
        stop_children(self.children, grace_s=15)


async def start_children(urls: dict[str, str], nats_url: str, logs: Path) -> ChildMesh:
    ports = {name: free_port() for name in REGISTRY}
    prefix, children = f"soak-{uuid.uuid4().hex[:8]}-", []
    logs.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        spec = REGISTRY[name]
        env = child_env(spec, "127.0.0.1", ports, urls[name], nats_url, {**os.environ, **settings_env(name, prefix)})
        log_path = logs / f"{name}.log"
        process = launch([sys.executable, "-m", "services.cli.main", "serve", name], env, log_path)
        children.append(Child(spec, f"127.0.0.1:{ports[name]}", log_path, process))
    mesh = ChildMesh(children, urls)
    try:
        for child in children:
            await asyncio.to_thread(child.wait_serving, 60)
    except BaseException:
        mesh.stop()
        raise
    return mesh


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def connections(admin_url: str, urls: dict[str, str]) -> dict[str, int]:
    """Server connections per service database (pg_stat_activity)."""
    names = {database_of(url): service for service, url in urls.items()}
    found = dict(
        await rows(
            admin_url,
            "SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY(:names) GROUP BY datname",
            names=list(names),
        )
    )
    return {service: found.get(db, 0) for db, service in names.items()}


async def sample(mesh: ChildMesh, admin_url: str) -> dict[str, dict]:
    pids = {c.spec.name: c.process.pid for c in mesh.children}
    return {
        "rss_mb": {n: round(rss_mb(p), 1) for n, p in pids.items()},
        "fds": {n: open_fds(p) for n, p in pids.items()},
        "db_connections": await connections(admin_url, mesh.urls),
    }
