"""`novatrek serve <svc> --processes N`: N worker processes of one service behind one port.

A grpc.aio process uses one core. The parent binds the port first (SO_REUSEPORT, not listening),
so a port another program holds is still an error, as with one process; then it starts N workers
(`novatrek serve <svc>` each, told to share the port), which the kernel hands new connections to in
turn. The parent keeps its socket, so the port stays this service's while workers come and go, and
it passes SIGTERM/SIGINT on (each worker drains); if one worker dies, it stops the others and exits
with that worker's code, so `novatrek up` or the orchestrator restarts the whole service."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

from services.cli.children import die_with_parent
from services.cli.registry import ServiceSpec


def claim_port(host: str, port: int) -> socket.socket:
    """A bound, non-listening socket with SO_REUSEPORT: fails (OSError) if the port is taken by anyone
    not sharing it; port 0 picks a free one (its number: getsockname()[1])."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0]
    claim = socket.socket(family, kind, proto)
    claim.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        claim.bind(address)
    except OSError:
        claim.close()
        raise
    return claim


def worker_env(spec: ServiceSpec, base: Mapping[str, str], port: int, index: int, metrics_port: int) -> dict:
    """Worker `index`'s environment: the shared port; /metrics on metrics_port + index (if on)."""
    env = {**base, spec.env("port"): str(port), spec.env("reuse_port"): "true", spec.env("processes"): "1"}
    if metrics_port:
        env[spec.env("metrics_port")] = str(metrics_port + index)
    return env


def serve_workers(spec: ServiceSpec, host: str, port: int, processes: int, metrics_port: int, base: Mapping) -> int:
    try:
        claim = claim_port(host, port)
    except OSError as exc:
        print(f"novatrek serve: {spec.name}: cannot bind {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    port = claim.getsockname()[1]
    argv = [sys.executable, "-m", "services.cli.main", "serve", spec.name, "--host", host]
    workers = [
        subprocess.Popen(argv, env=worker_env(spec, base, port, i, metrics_port), preexec_fn=die_with_parent)
        for i in range(processes)
    ]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for w in workers:
            if w.poll() is None:
                w.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(w.poll() is None for w in workers) and not stopping:
            time.sleep(0.2)  # a supervisor's poll of its children, not a wait for a condition
        if not stopping:
            stop(signal.SIGTERM, None)
        return max((w.wait() for w in workers), key=abs)
    finally:
        claim.close()
