"""The processes `novatrek up` (and the benchmark) runs: embedded PostgreSQL and NATS unless
configured, databases and migrations, one child per service, the gateway, the demo webhook receiver."""

from __future__ import annotations

import json
import os
import secrets
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.children import (
    GATEWAY,
    LOG_GENERATIONS,
    Child,
    GatewayChild,
    StartupFailed,
    child_env,
    connect_host,
    gateway_env,
    launch,
    plan_ports,
    port_free,
    rotate_log,
    stop_children,
)
from services.cli.databases import create_database, database_of, prepare, redacted, with_database
from services.cli.embedded import EmbeddedNats, EmbeddedPostgres
from services.cli.registry import NATS_URL_ENV, REGISTRY, get
from services.gateway.config import BOOKINGS, INTERNAL_SERVICES
from services.notifications.sink import WebhookSink

STOP_GRACE_S = 15.0
NATS_DEFAULT_PORT = 4222
WEBHOOK_SINK_PORT = 8090
CLIENT_TOKEN_KEY_ENV = "NOVATREK_GATEWAY_CLIENT_TOKEN_KEY"


@dataclass
class UpOptions:
    data_dir: Path
    services: list[str] = field(default_factory=lambda: list(REGISTRY))
    host: str = "127.0.0.1"
    base_port: int | None = None
    demo: bool = True
    startup_timeout_s: float = 60.0
    gateway_port: int | None = None  # None: 8080, or base_port + 29 with a base port
    max_crashes: int = 5  # a child that crashes this often within crash_window_s stops the mesh
    crash_window_s: float = 60.0


def say(message: str) -> None:
    print(message, flush=True)


class Mesh:
    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.specs = [get(name) for name in dict.fromkeys(options.services)]
        self.pg: EmbeddedPostgres | None = None
        self.nats: EmbeddedNats | None = None
        self.children: list[Child] = []
        self.infra: list[tuple[str, str]] = []
        self.secret_env: dict[str, dict[str, str]] = {}  # service name -> extra environment
        self.sink: WebhookSink | None = None

    @property
    def logs(self) -> Path:
        return self.options.data_dir / "logs"

    def check_code(self) -> None:
        """Imports every selected service before anything starts: a missing one fails clearly."""
        for spec in self.specs:
            spec.settings_cls(), spec.build()

    def start_postgres(self) -> dict[str, str]:
        urls = {s.name: os.environ.get(s.env("database_url"), "") for s in self.specs}
        if all(urls.values()):
            self.infra.append(("postgresql", "external (NOVATREK_*_DATABASE_URL)"))
            return urls
        pg_dir = self.options.data_dir / "pg"
        handles = pg_dir / ".handle_pids.json"  # stale after a killed `up`; we hold the data-dir lock
        if handles.exists():
            handles.write_text("[]")
        say(f"starting embedded PostgreSQL in {pg_dir} ...")
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            self.pg = EmbeddedPostgres(pg_dir)
        self.infra.append(("postgresql", f"embedded, data in {pg_dir}"))
        return {name: url or self.pg.url(get(name).database) for name, url in urls.items()}

    def start_nats(self) -> str:
        if url := os.environ.get(NATS_URL_ENV):
            self.infra.append(("nats", f"{url} (external)"))
            return url
        port = NATS_DEFAULT_PORT if port_free("127.0.0.1", NATS_DEFAULT_PORT) else None
        self.nats = EmbeddedNats(self.options.data_dir / "nats", port=port)
        self.infra.append(("nats", f"{self.nats.url} (embedded, data in {self.options.data_dir / 'nats'})"))
        return self.nats.url

    async def migrate_all(self, urls: dict[str, str]) -> None:
        for name, url in urls.items():
            try:
                await create_database(with_database(url, "postgres"), database_of(url))
            except Exception as exc:  # an external server may not let us; the migration will tell
                if not os.environ.get(get(name).env("database_url")):
                    raise
                say(f"note: could not ensure database {database_of(url)} exists: {exc!r}")
            say(f"migrating {name} ({redacted(url)}) ...")
            await prepare(name, url)

    def partner_secrets(self) -> dict[str, str]:
        """Admin token and API-key pepper of partner-integrations: from the environment, else made
        once and kept in the data dir (0600) so demo keys stay valid across runs."""
        spec = get("partner-integrations")
        return {spec.env(s): self.kept_secret(spec.env(s), s) for s in ("admin_token", "api_key_pepper")}

    def kept_secret(self, env: str, setting: str) -> str:
        """`env`'s value, else the one made for `setting` by an earlier run (0600 in the data dir)."""
        if value := os.environ.get(env, ""):
            return value
        path = self.secret_path(setting)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def client_token_key(self) -> str:
        """The HS256 key the gateway verifies customer tokens with (and `up` signs its demo one)."""
        return self.kept_secret(CLIENT_TOKEN_KEY_ENV, "client_token_key")

    def secret_path(self, setting: str) -> Path:
        return self.options.data_dir / "secrets" / setting

    def share_partner_secrets(self) -> None:
        """partner-integrations gets its admin token and pepper; notifications the admin token, for
        the admin-only GetPartnerWebhook."""
        found = self.partner_secrets()
        self.secret_env["partner-integrations"] = found
        token = found[get("partner-integrations").env("admin_token")]
        self.secret_env["notifications"] = {get("notifications").env("partners_token"): token}

    def start_sink(self) -> WebhookSink:
        """The demo partner's webhook receiver, on the port it had last time (its URL is registered
        with the partner), else 8090, else any free port."""
        saved = self.options.data_dir / "webhook-sink-port"
        ports = [int(saved.read_text()) if saved.exists() else WEBHOOK_SINK_PORT, WEBHOOK_SINK_PORT]
        port = next((p for p in ports if port_free("127.0.0.1", p)), 0)
        self.sink = WebhookSink(port=port, log_path=self.options.data_dir / "webhooks.log").start()
        saved.write_text(str(self.sink.port))
        self.infra.append(("webhook receiver", f"{self.sink.url} (demo partner's deliveries, in {self.sink.log_path})"))
        return self.sink

    def _spawn(self, child_cls: type[Child], spec, address: str, env: dict[str, str]) -> Child:
        log_path = self.logs / f"{spec.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        rotate_log(log_path)
        argv = [sys.executable, "-m", "services.cli.main", "serve", spec.name]
        child = child_cls(spec, address, log_path, launch(argv, env, log_path), argv, env)
        self.children.append(child)
        return child

    def start_services(self, urls: dict[str, str], nats_url: str) -> None:
        o = self.options
        ports = plan_ports(o.base_port, os.environ)
        taken = [f"{s.name} ({ports[s.name]})" for s in self.specs if not port_free(o.host, ports[s.name])]
        if taken:
            raise StartupFailed(f"port(s) in use: {', '.join(taken)} — another `novatrek up`? try --base-port")
        for spec in self.specs:
            env = child_env(
                spec, o.host, ports, urls[spec.name], nats_url, {**os.environ, **self.secret_env.get(spec.name, {})}
            )
            self._spawn(Child, spec, f"{connect_host(o.host)}:{ports[spec.name]}", env)
        for child in self.children:
            say(f"waiting for {child.spec.name} on {child.address} ...")
            child.wait_serving(o.startup_timeout_s)

    def start_gateway(self) -> Child | None:
        """The REST gateway in front of whatever runs: partners on the public listener, the
        first-party surfaces (INTERNAL_SERVICES: the seed's, ordering) on the internal (loopback) one."""
        o, running = self.options, {s: c.address for c in self.children for s in c.spec.grpc_services}
        public = [s for s in (REGISTRY["partner-integrations"].grpc_service, BOOKINGS) if s in running]
        if not public:
            return None
        internal = [s for s in INTERNAL_SERVICES if s in running]
        port = o.gateway_port or (o.base_port + 29 if o.base_port else GATEWAY.port)
        if not (port_free(o.host, port) and port_free("127.0.0.1", port + 1)):
            raise StartupFailed(f"gateway port {port} or {port + 1} is in use — try --gateway-port")
        env = gateway_env(
            o.host,
            port,
            running,
            {
                **os.environ,
                "NOVATREK_GATEWAY_PUBLIC_SERVICES": json.dumps(public),
                "NOVATREK_GATEWAY_INTERNAL_SERVICES": json.dumps(internal),
                CLIENT_TOKEN_KEY_ENV: self.client_token_key(),
            },
        )
        child = self._spawn(GatewayChild, GATEWAY, f"{connect_host(o.host)}:{port}", env)
        say(f"waiting for the gateway on {child.address} ...")
        child.wait_serving(o.startup_timeout_s)
        self.infra.append(
            (
                "gateway (internal)",
                f"http://127.0.0.1:{port + 1} (seed /reservations REST, guests, catalog, checkouts, orders, "
                "stock, companies, passes, wallets, session views, loyalty, networks; loopback only)",
            )
        )
        return child

    def where_things_are(self) -> list[tuple[str, str]]:
        """Banner lines for a newcomer: data, logs, the admin token (where it is, never its value), supervision."""
        o, lines = self.options, [("data dir", str(self.options.data_dir))]
        lines.append(("service logs", f"{self.logs}/<service>.log (earlier runs: .log.1 to .log.{LOG_GENERATIONS})"))
        if "partner-integrations" in self.secret_env:
            env = get("partner-integrations").env("admin_token")
            where = f"${env}" if os.environ.get(env) else str(self.secret_path("admin_token"))
            lines.append(("admin token", f"{where} (partner-integrations' admin Bearer token)"))
        if any(c.spec.grpc_service == BOOKINGS for c in self.children):
            key_at = (
                f"${CLIENT_TOKEN_KEY_ENV}"
                if os.environ.get(CLIENT_TOKEN_KEY_ENV)
                else str(self.secret_path("client_token_key"))
            )
            lines.append(
                ("customer token key", f"{key_at} (mint one: novatrek client-token --user-id <uuid> with it set)")
            )
        lines.append(
            (
                "supervision",
                f"crashed services are restarted; {o.max_crashes} crashes in {o.crash_window_s:g} s stop all",
            )
        )
        return lines

    def stop(self) -> None:
        stop_children(self.children, STOP_GRACE_S)
        if self.sink is not None:
            self.sink.stop()
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()
