"""Scenario 8 (soak, only with --run-soak): NOVATREK_SOAK_SECONDS (default 600) of mixed load —
gets, searches, creates, partner bookings, cancels — against the whole mesh running as child
processes, as `novatrek up` runs it. Every ~10 s the resident memory and open file descriptors of
each process and the connections of each database are sampled. After warm-up, the last third's
median may not exceed the first third's by more than a small margin (no growth trend), and once
the load stops every database is back to at most the pool's idle connections (nothing leaked)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import time
from collections import deque

import grpc
import pytest
from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from novatrek.guests.v1 import guests_pb2_grpc
from novatrek.partners.v1 import partners_pb2 as ppb
from novatrek.partners.v1 import partners_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2 as rpb
from novatrek.reservations.v1 import reservations_pb2_grpc

from services.cli.embedded import EmbeddedNats
from tests.helpers import eventually
from tests.integration.booking import create_request, new_departure, new_guest
from tests.integration.conftest import fresh_database
from tests.integration.partner_fixtures import as_key
from tests.reliability.children import POOL, SERVICES, connections, sample, start_children
from tests.reliability.faults import Load, partner_booking, summary
from tests.reliability.mesh import new_partner

SECONDS = float(os.environ.get("NOVATREK_SOAK_SECONDS", "600"))
INTERVAL_S = min(10.0, SECONDS / 12)  # at least a dozen samples, even in a short run
RSS_GROWTH, RSS_SLACK_MB, FD_SLACK = 0.20, 8.0, 10  # tolerated: last third vs first third (medians)


def mixed(stubs: dict, key: str, guest_id: str, trip_id: str, day):
    """gets, searches, creates, partner bookings and cancels, in a fixed rotation."""
    made, booked = deque(maxlen=200), deque(maxlen=200)
    book = partner_booking(stubs["partners"], key, guest_id, trip_id, day)
    res, cat = stubs["reservations"], stubs["catalog"]

    async def create(t):
        made.append(
            (
                await res.CreateReservation(create_request(guest_id, trip_id, day, 1), timeout=t)
            ).reservation.reservation_id
        )
        return made[-1]

    async def partner(t):
        booked.append(await book(t))
        return booked[-1]

    async def cancel(t):
        if booked:
            request = ppb.CancelPartnerBookingRequest(booking_id=booked.popleft(), reason="soak")
            return (
                await stubs["partners"].CancelPartnerBooking(request, metadata=as_key(key), timeout=t)
            ).booking.booking_id
        if made:
            return (
                await res.CancelReservation(rpb.CancelReservationRequest(reservation_id=made.popleft()), timeout=t)
            ).reservation.reservation_id
        return ""

    async def get(t):
        if made:
            return (
                await res.GetReservation(rpb.GetReservationRequest(reservation_id=made[-1]), timeout=t)
            ).reservation.reservation_id
        return (await cat.GetTrip(catalog_pb2.GetTripRequest(trip_id=trip_id), timeout=t)).trip.trip_id

    async def search(t):
        await res.SearchReservations(rpb.SearchReservationsRequest(trip_id=trip_id, page_size=20), timeout=t)
        return trip_id

    rotation = itertools.cycle([get, search, create, partner, get, cancel, search, partner, create, cancel])
    return lambda t: next(rotation)(t)


def trend(samples: list[dict], metric: str, service: str) -> tuple[float, float]:
    """Medians of the first and the last third of the samples taken after warm-up."""
    values = [s[metric][service] for s in samples]
    third = max(1, len(values) // 3)
    return statistics.median(values[:third]), statistics.median(values[-third:])


@pytest.mark.soak
@pytest.mark.timeout(SECONDS + 300)
async def test_soak_mixed_load_has_no_growth_and_no_leaked_connections(make_database, pg_admin_url, tmp_path):
    urls = {name: await fresh_database(make_database, name, f"soak_{name.split('-')[0]}") for name in SERVICES}
    nats = EmbeddedNats(tmp_path / "nats")  # of its own: thousands of events stay out of the shared NATS
    mesh = await start_children(urls, nats.url, tmp_path / "logs")
    channels = {name: grpc.aio.insecure_channel(mesh.address(name)) for name in SERVICES}
    stubs = {
        "guests": guests_pb2_grpc.GuestServiceStub(channels["guest-profiles"]),
        "catalog": catalog_pb2_grpc.CatalogServiceStub(channels["trip-catalog"]),
        "reservations": reservations_pb2_grpc.ReservationServiceStub(channels["reservations"]),
        "partners": partners_pb2_grpc.PartnerServiceStub(channels["partner-integrations"]),
    }
    try:
        _, key = await new_partner(stubs["partners"])
        guest_id, (trip_id, day) = (
            await new_guest(stubs["guests"]),
            await new_departure(stubs["catalog"], capacity=10_000),
        )
        samples, started = [], time.monotonic()
        async with Load(mixed(stubs, key, guest_id, trip_id, day), workers=4, max_calls=int(SECONDS * 80)) as load:
            while time.monotonic() - started < SECONDS:
                await asyncio.sleep(INTERVAL_S)
                samples.append({"t": round(time.monotonic() - started), **await sample(mesh, pg_admin_url)})
        await eventually(lambda: _pools_idle(pg_admin_url, urls), timeout_s=30)
        after = await sample(mesh, pg_admin_url)
    finally:
        for channel in channels.values():
            await channel.close()
        await asyncio.to_thread(mesh.stop)
        nats.stop()

    steady = samples[max(1, len(samples) // 5) :]  # the first fifth is warm-up (pools, caches, JIT of protobuf)
    figures = {
        "seconds": SECONDS,
        "load": summary(load.outcomes),
        "samples": len(samples),
        "rss_mb": {n: trend(steady, "rss_mb", n) for n in SERVICES},
        "fds": {n: trend(steady, "fds", n) for n in SERVICES},
        "db_connections_peak": {n: max(s["db_connections"][n] for s in samples) for n in SERVICES},
        "after_load": after,
    }
    print("RELIABILITY soak", json.dumps(figures))
    assert {o.code for o in load.outcomes} == {grpc.StatusCode.OK}, figures["load"]
    for name in SERVICES:
        first, last = figures["rss_mb"][name]
        assert last <= first * (1 + RSS_GROWTH) + RSS_SLACK_MB, (name, "memory grows", first, last)
        first, last = figures["fds"][name]
        assert last <= first + FD_SLACK, (name, "file descriptors grow", first, last)
        assert figures["db_connections_peak"][name] <= POOL["db_pool_max"] + 1, name  # + the health probe's
        assert after["db_connections"][name] <= POOL["db_pool_min"], (name, "connections not returned")
        assert after["fds"][name] <= max(s["fds"][name] for s in steady), (name, "file descriptors left open")


async def _pools_idle(admin_url: str, urls: dict[str, str]) -> bool:
    return all(n <= POOL["db_pool_min"] for n in (await connections(admin_url, urls)).values())
