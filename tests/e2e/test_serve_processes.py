"""`novatrek serve <svc> --processes 2`: two worker processes answer on one port (issue 15, item 5).
Health checks say which process answered (trailing metadata `novatrek-pid`); connections opened one
after another reach both workers. A port another program holds is still refused."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.databases import prepare
from services.cli.embedded import free_port
from services.cli.registry import get

SERVICE = "guest-profiles"  # a service without a broker: only its database to set up


def _serve(port: int, env: dict) -> subprocess.Popen:
    argv = [sys.executable, "-m", "services.cli.main", "serve", SERVICE, "--processes", "2", "--port", str(port)]
    return subprocess.Popen(
        [*argv, "--host", "127.0.0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _answered_by(address: str) -> int | None:
    """The pid of the worker that answers a health check on a connection of its own."""
    with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        try:
            _, call = health_pb2_grpc.HealthStub(channel).Check.with_call(health_pb2.HealthCheckRequest(), timeout=2)
        except grpc.RpcError:
            return None  # not listening yet
    return int(dict(call.trailing_metadata())["novatrek-pid"])


async def test_two_workers_share_one_port_and_both_answer(make_database):
    url = await make_database("serve_processes")
    await prepare(SERVICE, url)
    port, spec = free_port(), get(SERVICE)
    server = _serve(port, {**os.environ, spec.env("database_url"): url})
    try:
        answered: set[int] = set()
        deadline = time.monotonic() + 60
        while len(answered) < 2 and time.monotonic() < deadline and server.poll() is None:
            if (pid := _answered_by(f"127.0.0.1:{port}")) is not None:
                answered.add(pid)
        workers = {p.pid for p in psutil.Process(server.pid).children()}
        assert len(workers) == 2 and answered == workers
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output


async def test_a_port_held_by_another_program_is_refused():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = _serve(taken.getsockname()[1], dict(os.environ))
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 1
    assert "cannot bind" in output
