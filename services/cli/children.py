"""The child processes of `novatrek up`: their ports, environment, start-up wait and logs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.registry import NATS_URL_ENV, REGISTRY, ServiceSpec

LOG_GENERATIONS = 3  # previous runs' logs kept beside the current one


class StartupFailed(Exception):
    pass


def plan_ports(base_port: int | None, env: Mapping[str, str]) -> dict[str, int]:
    """Every registered service's port (also those not started, so peers get stable addresses):
    with a base port, the defaults shifted by (base - first default); else NOVATREK_<PKG>_PORT, else
    the default."""
    if base_port is not None:
        first = min(spec.port for spec in REGISTRY.values())
        return {name: base_port + spec.port - first for name, spec in REGISTRY.items()}
    return {name: int(env.get(spec.env("port")) or spec.port) for name, spec in REGISTRY.items()}


def connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def child_env(
    spec: ServiceSpec, host: str, ports: dict[str, int], database_url: str, nats_url: str, base: Mapping[str, str]
) -> dict[str, str]:
    env = dict(base)
    env.update(
        {
            spec.env("host"): host,
            spec.env("port"): str(ports[spec.name]),
            spec.env("database_url"): database_url,
            NATS_URL_ENV: nats_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    for setting, peer in spec.peers.items():
        env[spec.env(setting)] = f"{connect_host(host)}:{ports[peer]}"
    return env


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def rotate_log(path: Path, keep: int = LOG_GENERATIONS) -> None:
    """<name>.log -> <name>.log.1 -> ... -> <name>.log.<keep>: the previous runs' logs stay readable."""
    for generation in range(keep - 1, 0, -1):
        if (older := path.with_name(f"{path.name}.{generation}")).exists():
            older.replace(path.with_name(f"{path.name}.{generation + 1}"))
    if path.exists():
        path.replace(path.with_name(f"{path.name}.1"))


def launch(argv: list[str], env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """A child in its own session (a Ctrl-C reaches `up` only, which stops it), its output appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )


@dataclass
class Child:
    spec: ServiceSpec
    address: str
    log_path: Path
    process: subprocess.Popen
    argv: list[str] = field(default_factory=list)  # how to start it again
    env: dict[str, str] = field(default_factory=dict)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def restart(self, why: str) -> None:
        """Starts it again, its output appended after a log line (JSON, as the services' own) that says why."""
        line = {"ts": datetime.now(UTC).isoformat(), "level": "warning", "service": "novatrek-up", "msg": why}
        with self.log_path.open("a") as log:
            log.write(json.dumps(line) + "\n")
        self.process = launch(self.argv, self.env, self.log_path)

    def ready(self) -> bool:
        """One look at its gRPC health: SERVING (the signal `up` waits for at start, too)."""
        with grpc.insecure_channel(self.address) as channel:
            request = health_pb2.HealthCheckRequest(service=self.spec.grpc_service)
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=1.0)
            except grpc.RpcError:
                return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def wait_serving(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise StartupFailed(f"{self.spec.name} exited with code {self.process.returncode} while starting")
            if self.ready():
                return
            if time.monotonic() > deadline:
                raise StartupFailed(f"{self.spec.name} is not ready on {self.address} after {timeout_s:.0f}s")
            time.sleep(0.2)


def stop_children(children: list[Child], grace_s: float) -> None:
    """SIGTERM to all (each drains), then SIGKILL whatever is still there after `grace_s`."""
    alive = [c for c in children if c.process.poll() is None]
    for child in alive:
        child.process.terminate()
    deadline = time.monotonic() + grace_s
    for child in alive:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.spec.name} did not stop within {grace_s:.0f}s; killing it", flush=True)
            child.process.kill()
            child.process.wait()


GATEWAY = ServiceSpec(
    "gateway", "gateway", "services.gateway.config:GatewaySettings", "services.gateway.main:run", "", 8080, ""
)


class GatewayChild(Child):
    """The REST gateway: no gRPC health of its own, so ready is its /healthz answering."""

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.address}/healthz", timeout=1.0) as answer:
                return answer.status == 200
        except OSError:
            return False  # not listening yet


def gateway_env(host: str, port: int, upstreams: dict[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """Public listener on `port` (partners), internal on `port + 1` (loopback: the first-party surfaces)."""
    return {
        **base,
        "NOVATREK_GATEWAY_HOST": host,
        "NOVATREK_GATEWAY_PORT": str(port),
        "NOVATREK_GATEWAY_INTERNAL_HOST": "127.0.0.1",
        "NOVATREK_GATEWAY_INTERNAL_PORT": str(port + 1),
        "NOVATREK_GATEWAY_UPSTREAMS": json.dumps(upstreams),
        "PYTHONUNBUFFERED": "1",
    }
