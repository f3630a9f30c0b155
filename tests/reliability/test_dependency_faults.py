"""Scenario 3: a dependency of the partner booking pipeline goes down under load and comes back.

trip-catalog, guest-profiles, payments and reservations each sit behind a fault proxy that every
caller goes through; 8 partner bookings run in a loop while one proxy is taken down (connections
refused, calls in flight cut) and brought back. Callers must get UNAVAILABLE within their
deadline, the load must succeed again once the dependency is back, and the databases must show
no orphaned hold, reservation or commission once compensations (some left to saga recovery) ran."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import grpc
import pytest

from services.cli.embedded import EmbeddedNats
from tests.helpers import eventually
from tests.integration.booking import new_departure, new_guest
from tests.reliability.faults import FaultProxy, Load, partner_booking, summary
from tests.reliability.ledger import booking_problems, bookings_recorded, no_problems, open_sagas
from tests.reliability.mesh import booking_path, new_partner

DEADLINE_S, OUTAGE_S = 5.0, 4.0


@pytest.fixture(scope="module")
async def proxied(make_database, guests_service, catalog_service, payments_service, tmp_path_factory):
    """The booking path with every dependency, reservations included, behind a fault proxy. Its
    events go to a NATS of its own: hundreds of bookings would otherwise pile up in the shared one."""
    proxies: dict[str, FaultProxy] = {}
    nats = EmbeddedNats(tmp_path_factory.mktemp("nats"))

    async def route(name: str, address: str) -> str:
        proxies[name] = await FaultProxy(address).up()
        return proxies[name].address

    mesh = await booking_path(make_database, guests_service, catalog_service, payments_service, nats.url, route=route)
    yield mesh, proxies
    for proxy in proxies.values():
        await proxy.down()
    await mesh.stop()
    nats.stop()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("dependency", ["catalog", "guests", "payments", "reservations"])
async def test_a_dependency_down_under_load_fails_fast_and_leaves_nothing_behind(dependency, proxied):
    mesh, proxies = proxied
    partner_id, key = await new_partner(mesh.partners_stub)
    guest_id, (trip_id, day) = await new_guest(mesh.guests_stub), await new_departure(mesh.catalog_stub, capacity=5000)
    book = partner_booking(mesh.partners_stub, key, guest_id, trip_id, day)
    # The previous case's outage is over on every path (each caller's channel has reconnected), so
    # what happens before this case's outage is this case's.
    await eventually(lambda: _books(book), timeout_s=20)
    async with Load(book, deadline_s=DEADLINE_S) as load:
        await load.successes(load.workers, timeout_s=20)  # healthy first
        down_at = time.monotonic()
        await proxies[dependency].down()
        await asyncio.sleep(OUTAGE_S)
        up_at = time.monotonic()
        await proxies[dependency].up()
        recovered_s = await load.first_success_after(up_at)
        await asyncio.sleep(0.5)

    before, during = load.between(0, down_at), load.started_between(down_at, up_at)
    failed = [o for o in load.outcomes if o.code is not grpc.StatusCode.OK]
    figures = {
        "dependency": dependency,
        "before": summary(before),
        "outage": summary(during),
        "all": summary(load.outcomes),
        "recovered_after_s": round(recovered_s, 2),
    }
    print("RELIABILITY dependency-fault", json.dumps(figures))
    assert before and all(o.code is grpc.StatusCode.OK for o in before)
    assert not [o for o in during if o.code is grpc.StatusCode.OK and o.ended < up_at], (
        "a booking succeeded without its dependency"
    )
    assert len([o for o in during if o.code is not grpc.StatusCode.OK]) >= load.workers
    assert {o.code for o in failed} == {grpc.StatusCode.UNAVAILABLE}, figures
    assert max(o.seconds for o in failed) < DEADLINE_S, figures  # no caller waited out its deadline

    # Compensations that needed the dependency were left to recovery; give it the time it needs.
    with contextlib.suppress(AssertionError):
        await eventually(lambda: _settled(mesh, trip_id, day, partner_id), timeout_s=30)
    problems = {k: v for k, v in (await booking_problems(mesh.db, trip_id, day, partner_id)).items() if v}
    assert (await open_sagas(mesh.db.partners), problems) == ([], {})
    assert not any((await bookings_recorded(mesh.db, load.confirmed())).values())


async def _books(book) -> bool:
    try:
        await book(DEADLINE_S)
    except grpc.aio.AioRpcError:
        return False
    return True


async def _settled(mesh, trip_id, day, partner_id) -> bool:
    return not await open_sagas(mesh.db.partners) and await no_problems(mesh.db, trip_id, day, partner_id)
