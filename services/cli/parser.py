"""The `novatrek` command line: its commands, options and their checks (main.py runs them)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from services.cli.registry import REGISTRY

DEFAULT_DATA_DIR = ".novatrek"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("novatrek-mesh")
    except PackageNotFoundError:
        return "unknown"


def service_name(value: str) -> str:
    if value not in REGISTRY and value != "gateway":
        raise argparse.ArgumentTypeError(f"unknown service {value!r} (choose from {', '.join(REGISTRY)})")
    return value


def port_number(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port")
    return port


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def user_id(value: str) -> str:
    if not _UUID.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a user id (a UUID)")
    return value.lower()


def service_processes(value: str) -> tuple[str, int]:
    name, _, count = value.partition("=")
    if name not in REGISTRY or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not SERVICE=N (a service of {', '.join(REGISTRY)})")
    return name, int(count)


def env_port(name: str) -> int | None:
    value = os.environ.get(name)
    return port_number(value) if value else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="novatrek", description="NovaTrek gRPC service mesh")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the whole mesh locally (embedded PostgreSQL and NATS unless configured)")
    up.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("NOVATREK_DATA_DIR") or DEFAULT_DATA_DIR),
        help="where embedded servers and logs live (env NOVATREK_DATA_DIR; default ./.novatrek)",
    )
    up.add_argument(
        "--base-port",
        type=port_number,
        default=None,
        help="port of the first service; the others keep their default spacing (env NOVATREK_BASE_PORT; default 50051)",
    )
    up.add_argument("--host", default="127.0.0.1", help="interface the services listen on (default 127.0.0.1)")
    up.add_argument(
        "--only", nargs="+", type=service_name, metavar="SERVICE", help="start only these services (default: all)"
    )
    up.add_argument("--no-demo", action="store_true", help="do not load demo data")
    up.add_argument("--startup-timeout", type=float, default=60.0, help="seconds each service has to become SERVING")
    up.add_argument(
        "--gateway-port",
        type=port_number,
        default=None,
        help="public REST port (internal one: +1); default 8080, or base port + 29 with --base-port",
    )
    up.add_argument(
        "--max-crashes",
        type=int,
        default=5,
        help="a service that crashes this often within --crash-window stops the mesh (default 5; else restarted)",
    )
    up.add_argument("--crash-window", type=float, default=60.0, help="seconds, for --max-crashes (default 60)")
    up.add_argument(
        "--processes",
        nargs="+",
        type=service_processes,
        default=[],
        metavar="SERVICE=N",
        help="run these services as N worker processes on their port (see `serve --processes`)",
    )

    sub.add_parser(
        "grpcurl",
        add_help=False,
        help="the bundled grpcurl, arguments passed through: novatrek grpcurl -plaintext 127.0.0.1:50053 list",
    )

    serve = sub.add_parser("serve", help="run one service in the foreground (configured from the environment)")
    serve.add_argument("service", type=service_name, help=f"one of: {', '.join(REGISTRY)}, gateway")
    serve.add_argument("--port", type=port_number, default=None, help="override the configured port")
    serve.add_argument("--host", default=None, help="override the configured host")
    serve.add_argument(
        "--processes",
        type=positive,
        default=None,
        help="worker processes sharing the port, one core each (env NOVATREK_<SVC>_PROCESSES; default 1)",
    )

    migrate = sub.add_parser("migrate", help="run database migrations to head")
    migrate.add_argument("services", nargs="*", type=service_name, metavar="SERVICE", help="default: all")
    migrate.add_argument("--create-db", action="store_true", help="create each database first if it is missing")

    gen = sub.add_parser("gen", help="generate generated/ and third_party/ from protos/")
    gen.add_argument("--check", action="store_true", help="only check that the generated code is up to date")

    contracts = sub.add_parser("contracts", help="the image of the released contracts (protos/released.binpb)")
    contracts.add_argument(
        "contracts_command",
        choices=["check", "release"],
        help="check: buf breaking of protos/ against the image; release: rewrite the image from protos/",
    )

    arch = sub.add_parser("architecture", help="the architecture catalog and the review of a change (seed 003)")
    what = arch.add_subparsers(dest="architecture_command", required=True, metavar="ARCHITECTURE_COMMAND")
    build = what.add_parser("build", help="the catalog from the contracts, the code and architecture/catalog.toml")
    build.add_argument("--json", type=Path, required=True, dest="json_out", metavar="FILE")
    build.add_argument("--html", type=Path, default=None, dest="html_out", metavar="FILE", help="a self-contained page")
    export = what.add_parser("export-eventcatalog", help="the catalog as an EventCatalog project")
    export.add_argument("dest", type=Path, metavar="DIR")
    review = what.add_parser("review", help="categories, resources and teams a change between two git refs touches")
    review.add_argument("--base", required=True, help="the ref the change starts from, e.g. origin/main")
    review.add_argument("--head", default="HEAD", help="the ref of the change (default: HEAD)")
    review.add_argument("--json", action="store_true", dest="as_json", help="JSON instead of Markdown")
    review.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")

    portal = sub.add_parser("portal", help="the architecture portal: a MkDocs Material site of domains and services")
    act = portal.add_subparsers(dest="portal_command", required=True, metavar="PORTAL_COMMAND")
    site = act.add_parser("build", help="write the MkDocs project (mkdocs.yml + docs/) into DIR")
    site.add_argument("dest", type=Path, metavar="DIR")
    site.add_argument("--html", action="store_true", help="also `mkdocs build --strict` it into DIR/site")
    serve = act.add_parser("serve", help="build it into DIR and serve it locally (mkdocs serve, live reload)")
    serve.add_argument("dest", type=Path, nargs="?", default=Path("build/portal"), metavar="DIR")
    serve.add_argument("--address", default="127.0.0.1:8000", help="host:port (default: 127.0.0.1:8000)")

    token = sub.add_parser(
        "client-token",
        help="print a customer bearer token for the client surface (/api/client/…), signed with the gateway's "
        "HS* key (env NOVATREK_GATEWAY_CLIENT_TOKEN_KEY)",
    )
    token.add_argument("--user-id", type=user_id, required=True, help="the platform user id (UUID): the token's sub")
    token.add_argument("--ttl-s", type=positive, default=3600, help="seconds the token is valid (default 3600)")

    events = sub.add_parser("events", help="dead letters and a live tail of domain events")
    events.add_argument("--nats-url", default=os.environ.get("NOVATREK_NATS_URL", "nats://127.0.0.1:4222"))
    which = events.add_subparsers(dest="events_command", required=True, metavar="EVENTS_COMMAND")
    dlq = which.add_parser("dlq", help="messages parked after MaxDeliver failed deliveries")
    dlq.add_argument("dlq_action", choices=["list", "redrive"])
    dlq.add_argument("--seq", type=int, nargs="+", help="redrive only these sequence numbers (default: all)")
    tail = which.add_parser("tail", help="print events as JSON as they are published")
    tail.add_argument("subject", help="a subject or wildcard, e.g. novatrek.booking.> ")
    tail.add_argument("--count", type=int, default=None, help="stop after this many events")
    return parser
