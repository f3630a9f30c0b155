"""Starts what the benchmark measures, each in its own process: the mesh (as `novatrek up` does,
embedded PostgreSQL/NATS unless NOVATREK_BENCH_DATABASE_URL / NOVATREK_BENCH_NATS_URL), the
gateway, and the echo baseline server. Then makes the data the scenarios need."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from google.type import money_pb2
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.guests.v1 import guests_pb2 as gst
from novatrek.guests.v1 import guests_pb2_grpc
from novatrek.inventory.v1 import inventory_pb2 as inv
from novatrek.inventory.v1 import inventory_pb2_grpc
from novatrek.partners.v1 import partners_pb2 as prt
from novatrek.partners.v1 import partners_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2 as res
from novatrek.reservations.v1 import reservations_pb2_grpc

from bench.booking_data import make_booking_data
from services.chassis.protoconv import date_to_proto
from services.cli.children import port_free
from services.cli.databases import drop_database, with_database
from services.cli.embedded import free_port, wait_for_port
from services.cli.mesh import Mesh, UpOptions
from services.cli.registry import REGISTRY, get

SERVICES = [
    "guest-profiles",
    "trip-catalog",
    "reservations",
    "payments",
    "partner-integrations",
    "checkout",
    "orders",
    "inventory",
    # the session bookings path (create_booking): bookings and its peers
    "businesses",
    "passes",
    "wallet",
    "bookings",
]
# The checkout scenario buys this SKU, one at a time: stock enough for any run.
BENCH_SKU, BENCH_STOCK = "BENCH-PACK", 10_000_000


@dataclass
class Stack:
    mesh: Mesh
    addresses: dict[str, str]
    gateway_url: str
    echo_address: str
    reservations_dsn: str
    partners_dsn: str
    processes: list[subprocess.Popen] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    metrics_urls: list[str] = field(default_factory=list)  # each service's /metrics (bench/counts.py)
    database_urls: list[str] = field(default_factory=list)  # each service's database (its outbox)
    tag: str = ""  # names the databases made on an external server (dropped by stop)

    def pids(self) -> dict[str, int]:
        """Our own processes by name: the services, the gateway and the echo server."""
        gateway, echo = self.processes
        return {**{c.spec.name: c.process.pid for c in self.mesh.children}, "gateway": gateway.pid, "echo": echo.pid}

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(15)
        self.mesh.stop()
        _drop_external_databases(self.tag)


def _drop_external_databases(tag: str) -> None:
    """The databases made for this run on the configured server (ours, on a server others use too)."""
    if admin := os.environ.get("NOVATREK_BENCH_DATABASE_URL"):
        asyncio.run(_drop_databases(admin, tag))


async def _drop_databases(admin: str, tag: str) -> None:
    for name in SERVICES:
        await drop_database(admin, _database(tag, name))


def _database(tag: str, service: str) -> str:
    return f"bench_{tag}_{get(service).package}"


def _external_databases(tag: str) -> None:
    """Points every service at a fresh database on the configured server (the Mesh creates them)."""
    if admin := os.environ.get("NOVATREK_BENCH_DATABASE_URL"):
        for name in SERVICES:
            os.environ[get(name).env("database_url")] = with_database(admin, _database(tag, name))
    if nats_url := os.environ.get("NOVATREK_BENCH_NATS_URL"):
        os.environ["NOVATREK_NATS_URL"] = nats_url


def _spawn(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *argv], env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def _free_ports(count: int) -> int:
    """The first of `count` free ports in a row (a service's workers serve /metrics on port + i)."""
    while True:
        first = free_port()
        if all(port_free("127.0.0.1", first + i) for i in range(1, count)):
            return first


def start(work_dir: Path | None = None, processes: dict[str, int] | None = None) -> Stack:
    """`processes`: services run as that many worker processes (`novatrek serve --processes`)."""
    processes = processes or {}
    tag = uuid.uuid4().hex[:6]
    _external_databases(tag)
    data_dir = work_dir or Path(tempfile.mkdtemp(prefix="novatrek-bench-"))
    mesh = Mesh(UpOptions(data_dir=data_dir, services=SERVICES, base_port=_free_block()))
    spawned: list[subprocess.Popen] = []
    try:
        return _started(mesh, data_dir, tag, processes, spawned)
    except BaseException:  # a start that fails (a migration, a port) leaves no process or database behind
        for process in spawned:
            process.kill()
        mesh.stop()
        _drop_external_databases(tag)
        raise


def _started(mesh: Mesh, data_dir: Path, tag: str, processes: dict[str, int], spawned: list[subprocess.Popen]) -> Stack:
    urls, nats_url = mesh.start_postgres(), mesh.start_nats()
    asyncio.run(mesh.migrate_all(urls))
    mesh.secret_env["partner-integrations"] = mesh.partner_secrets()
    # what a request costs is read from there (from each worker's)
    metrics_ports = {name: _free_ports(processes.get(name, 1)) for name in SERVICES}
    for name, port in metrics_ports.items():
        os.environ[get(name).env("metrics_port")] = str(port)
        os.environ[get(name).env("processes")] = str(processes.get(name, 1))
    mesh.start_services(urls, nats_url)
    addresses = {c.spec.name: c.address for c in mesh.children}
    gateway_port, echo_port = free_port(), free_port()
    upstreams = {REGISTRY[n].grpc_service: addresses[n] for n in SERVICES}
    logs = data_dir / "logs"
    gateway = _spawn(
        ["-m", "services.gateway.main"],
        {
            "NOVATREK_GATEWAY_HOST": "127.0.0.1",
            "NOVATREK_GATEWAY_PORT": str(gateway_port),
            "NOVATREK_GATEWAY_INTERNAL_ENABLED": "false",
            "NOVATREK_GATEWAY_UPSTREAMS": json.dumps(upstreams),
            "NOVATREK_GATEWAY_RATE_LIMIT_ENABLED": "false",
            "NOVATREK_GATEWAY_ACCESS_LOG": "false",
        },
        logs / "gateway.log",
    )
    spawned.append(gateway)
    echo = _spawn(["-m", "bench.echo_server", str(echo_port)], {}, logs / "echo.log")
    spawned.append(echo)
    stack = Stack(
        mesh,
        addresses,
        f"http://127.0.0.1:{gateway_port}",
        f"127.0.0.1:{echo_port}",
        urls["reservations"].replace("+asyncpg", ""),
        urls["partner-integrations"].replace("+asyncpg", ""),
        [gateway, echo],
        metrics_urls=[
            f"http://127.0.0.1:{port + i}/metrics"
            for name, port in metrics_ports.items()
            for i in range(processes.get(name, 1))
        ],
        database_urls=[urls[name] for name in SERVICES],
        tag=tag,
    )
    wait_for_port("127.0.0.1", gateway_port, 30)
    wait_for_port("127.0.0.1", echo_port, 30)
    admin = mesh.secret_env["partner-integrations"][get("partner-integrations").env("admin_token")]
    stack.data = make_data(addresses, admin)
    stack.data["bookings"] = make_booking_data(addresses)
    return stack


def _free_block(size: int = len(REGISTRY)) -> int:
    """A base port with the services' default spacing free after it (one port per registered service)."""
    for base in range(20000, 60000, 10):
        if all(port_free("127.0.0.1", base + i) for i in range(size)):
            return base
    raise RuntimeError("no free block of ports")


def make_data(addresses: dict[str, str], admin_token: str, guests: int = 40, trips: int = 8) -> dict:
    """Guests, trips with roomy departures, a partner, and reservations to read."""
    day = datetime.now(UTC).date() + timedelta(days=60)
    with grpc.insecure_channel(addresses["guest-profiles"]) as ch:
        guests_stub = guests_pb2_grpc.GuestServiceStub(ch)
        guest_ids = [
            guests_stub.CreateGuest(
                gst.CreateGuestRequest(
                    guest=gst.Guest(
                        first_name="Bench", last_name=f"G{i}", email=f"bench-{uuid.uuid4().hex[:10]}@example.com"
                    )
                )
            ).guest.guest_id
            for i in range(guests)
        ]
    departures = []
    with grpc.insecure_channel(addresses["trip-catalog"]) as ch:
        catalog_stub = catalog_pb2_grpc.CatalogServiceStub(ch)
        for i in range(trips):
            price = money_pb2.Money(currency_code="USD", units=99, nanos=500_000_000)
            trip_id = catalog_stub.CreateTrip(
                cat.CreateTripRequest(trip=cat.Trip(name=f"Bench trip {i}", price_per_person=price))
            ).trip.trip_id
            catalog_stub.CreateDeparture(
                cat.CreateDepartureRequest(
                    departure=cat.Departure(trip_id=trip_id, departure_date=date_to_proto(day), capacity=10000)
                )
            )
            departures.append((trip_id, day.isoformat()))
    with grpc.insecure_channel(addresses["partner-integrations"]) as ch:
        plan = prt.CommissionPlan(
            basis=prt.TIER_BASIS_BOOKING_COUNT, tiers=[prt.CommissionTier(threshold="0", rate="0.10")]
        )
        partner = prt.Partner(name="Bench OTA", contact_email="bench@example.com", commission_plan=plan)
        registered = partners_pb2_grpc.PartnerServiceStub(ch).RegisterPartner(
            prt.RegisterPartnerRequest(partner=partner), metadata=(("authorization", f"Bearer {admin_token}"),)
        )
    with grpc.insecure_channel(addresses["reservations"]) as ch:
        reservations_stub = reservations_pb2_grpc.ReservationServiceStub(ch)
        made = [
            reservations_stub.CreateReservation(
                res.CreateReservationRequest(
                    request_id=str(uuid.uuid4()),
                    guest_id=guest_ids[i % guests],
                    trip_id=departures[i % trips][0],
                    trip_date=date_to_proto(day),
                    party_size=1,
                )
            ).reservation.reservation_id
            for i in range(200)
        ]
    with grpc.insecure_channel(addresses["inventory"]) as ch:
        inventory_pb2_grpc.InventoryServiceStub(ch).SetStockLevel(
            inv.SetStockLevelRequest(sku=BENCH_SKU, name="Bench trail pack", on_hand=BENCH_STOCK)
        )
    return {
        "guest_ids": guest_ids,
        "departures": departures,
        "api_key": registered.api_key,
        "partner_id": registered.partner.partner_id,
        "reservation_ids": made,
    }
