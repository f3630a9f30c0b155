"""`novatrek up`: embedded PostgreSQL + NATS (unless configured), databases, migrations, one child
process per service, the gateway, demo data, a banner; then it supervises the children (a crashed one
is restarted, see supervisor.py); Ctrl-C / SIGTERM stops everything in reverse order."""

from __future__ import annotations

import asyncio
import fcntl
import signal
import sys
from pathlib import Path

import grpc

from services.cli import demo
from services.cli.banner import banner, novatrek_command, try_commands
from services.cli.children import StartupFailed
from services.cli.mesh import Mesh, UpOptions, say
from services.cli.registry import get
from services.cli.supervisor import CrashPolicy, Supervisor
from services.gateway.client_auth import mint_token

__all__ = ["UpOptions", "run"]

CLIENT_TOKEN_TTL_S = 7 * 86_400  # the printed demo customer token outlives a working week of `up`


class Interrupted(BaseException):
    """SIGINT / SIGTERM: shut down cleanly, exit 0."""


def _interrupt(signum, frame) -> None:
    # From the first signal on, the shutdown runs to its end: a second Ctrl-C must not cut it short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def _lock(data_dir: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "up.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise StartupFailed(f"another `novatrek up` is using {data_dir}") from None
    return handle


def _serve(mesh: Mesh) -> int:
    o = mesh.options
    mesh.check_code()
    urls = mesh.start_postgres()
    nats_url = mesh.start_nats()
    asyncio.run(mesh.migrate_all(urls))
    if {"partner-integrations", "notifications"} & set(urls):
        mesh.share_partner_secrets()
    mesh.start_services(urls, nats_url)
    mesh.start_gateway()
    addresses = {c.spec.name: c.address for c in mesh.children}
    admin_token = mesh.secret_env.get("partner-integrations", {}).get(
        get("partner-integrations").env("admin_token"), ""
    )
    webhook_url = mesh.start_sink().url if o.demo and "partner-integrations" in addresses else ""
    try:
        data = (
            demo.load(addresses, admin_token, o.data_dir / "secrets" / "demo-partner.json", webhook_url)
            if o.demo
            else demo.DemoData()
        )
    except grpc.RpcError as err:
        raise StartupFailed(f"loading demo data failed: {err.code().name}: {err.details()}") from err
    if data.activities.customer_id and "bookings" in addresses and "gateway" in addresses:
        data.client_token = mint_token(mesh.client_token_key(), data.activities.user_id, ttl_s=CLIENT_TOKEN_TTL_S)
    if mesh.sink is not None and data.webhook_secret:
        mesh.sink.trust(data.webhook_secret)
    services = [
        (c.spec.name, c.address, c.spec.grpc_service or "REST/JSON for partners, docs at /docs") for c in mesh.children
    ]
    say(
        banner(
            services,
            [*mesh.infra, *mesh.where_things_are()],
            data,
            try_commands(addresses, data, f"{novatrek_command()} grpcurl"),
        )
    )
    policy = CrashPolicy(max_crashes=o.max_crashes, window_s=o.crash_window_s)
    Supervisor(mesh.children, policy, o.startup_timeout_s).run()
    return 1


def run(options: UpOptions) -> int:
    try:
        lock = _lock(options.data_dir)
    except StartupFailed as exc:
        print(f"novatrek up: {exc}", file=sys.stderr, flush=True)
        return 1
    with lock:
        return _run_locked(Mesh(options))


def _run_locked(mesh: Mesh) -> int:
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 1
    try:
        code = _serve(mesh)
    except Interrupted:
        say("\nstopping ...")
        code = 0
    except StartupFailed as exc:
        print(f"novatrek up: {exc}", file=sys.stderr, flush=True)
        for child in mesh.children:
            if child.process.poll() is not None or child.spec.name in str(exc):
                print(f"--- last lines of {child.log_path} ---\n{child.tail()}", file=sys.stderr, flush=True)
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        mesh.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code == 0:
        say("stopped.")
    return code
