"""Events reach NATS through the outbox (and survive a NATS outage); dependencies down -> UNAVAILABLE."""

import asyncio
import time
import uuid

import grpc
import nats
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from novatrek.reservations.v1 import events_pb2, reservations_pb2_grpc

from services.chassis.health import LIVENESS
from services.cli.embedded import EmbeddedNats, free_port
from services.guests.config import GuestSettings
from services.guests.main import build as build_guests
from services.reservations.config import ReservationSettings
from services.reservations.main import build as build_reservations
from tests.helpers import eventually, fails
from tests.integration.booking import create_request, new_departure, new_guest, seats_available
from tests.integration.conftest import fresh_database, serve

CREATED = "novatrek.booking.reservation.created"


async def health_of(address: str) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        return (await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)).status


async def test_created_event_reaches_nats_with_cloudevents_headers(
    guests_stub, catalog_stub, reservations_stub, nats_url
):
    nc = await nats.connect(nats_url)
    inbox: asyncio.Queue = asyncio.Queue()
    await nc.subscribe(CREATED, cb=inbox.put)
    try:
        guest_id = await new_guest(guests_stub)
        trip_id, day = await new_departure(catalog_stub)
        r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day))).reservation
        while True:
            msg = await asyncio.wait_for(inbox.get(), 10)
            event = events_pb2.ReservationCreated.FromString(msg.data)
            if event.reservation.reservation_id == r.reservation_id:
                break
        assert event.reservation == r
        assert msg.headers["ce-type"] == "novatrek.booking.reservation.created.v1"
        assert msg.headers["ce-source"] == "//novatrek.io/reservations"
        assert msg.headers["Nats-Msg-Id"] == msg.headers["ce-id"] and msg.headers["ce-time"]
    finally:
        await nc.close()


async def test_nats_outage_delays_events_but_loses_none(
    tmp_path, make_database, guests_service, catalog_service, guests_stub, catalog_stub
):
    broker = EmbeddedNats(tmp_path / "nats", port=free_port())
    database = await fresh_database(make_database, "reservations", "reservations_outage")
    running = await serve(
        build_reservations,
        ReservationSettings,
        database,
        nats_url=broker.url,
        guests_addr=guests_service.address,
        catalog_addr=catalog_service.address,
    )
    engine = running.runtime.engine
    outbox_rows = lambda: _count(engine, "reservations.outbox")
    try:
        await eventually(lambda: _serving(running.address))
        broker.stop()
        await eventually(lambda: _not_serving(running.address))
        stub = reservations_pb2_grpc.ReservationServiceStub(running.channel)
        guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
        made = [
            (await stub.CreateReservation(create_request(guest_id, trip_id, day, 1))).reservation.reservation_id
            for _ in range(3)
        ]
        tried = await _attempts(engine)
        await eventually(lambda: _attempts_beyond(engine, tried))  # the relay tried again, all three written
        assert await outbox_rows() == 3  # kept while the broker is away
        broker = EmbeddedNats(tmp_path / "nats", port=broker.port)
        await eventually(lambda: _drained(outbox_rows))
        published = await _stream_reservation_ids(broker.url)
        assert sorted(i for i in published if i in made) == sorted(made)  # each exactly once
    finally:
        await running.stop()
        broker.stop()


async def _count(engine, table: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()


async def _attempts(engine) -> int:
    """Failed publication attempts the relay recorded on the outbox rows."""
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT coalesce(sum(attempts), 0) FROM reservations.outbox"))).scalar_one()


async def _attempts_beyond(engine, count: int) -> bool:
    return await _attempts(engine) > count


async def _serving(address):
    return await health_of(address) == health_pb2.HealthCheckResponse.SERVING


async def _not_serving(address):
    return await health_of(address) == health_pb2.HealthCheckResponse.NOT_SERVING


async def _drained(count) -> bool:
    return await count() == 0


async def _stream_reservation_ids(url: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(CREATED, durable=None, stream="NOVATREK_BOOKING")
        msgs = await sub.fetch(50, timeout=3)
        return [events_pb2.ReservationCreated.FromString(m.data).reservation.reservation_id for m in msgs]
    finally:
        await nc.close()


@pytest.mark.parametrize("down", ["guests_addr", "catalog_addr"])
async def test_dependency_down_is_unavailable_and_writes_nothing(
    down, make_database, guests_service, catalog_service, guests_stub, catalog_stub, nats_url
):
    addresses = {
        "guests_addr": guests_service.address,
        "catalog_addr": catalog_service.address,
        down: f"127.0.0.1:{free_port()}",
    }
    database = await fresh_database(make_database, "reservations", f"reservations_{down}")
    running = await serve(
        build_reservations, ReservationSettings, database, nats_url=nats_url, outbound_timeout_s=1.0, **addresses
    )
    try:
        guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=5)
        started = time.monotonic()
        stub = reservations_pb2_grpc.ReservationServiceStub(running.channel)
        failure = await fails(stub.CreateReservation(create_request(guest_id, trip_id, day, 2), timeout=10))
        assert failure.code == grpc.StatusCode.UNAVAILABLE and failure.retry_delay_s is not None
        assert time.monotonic() - started < 5
        assert await _count(running.runtime.engine, "reservations.reservation_keys") == 0
        assert await _count(running.runtime.engine, "reservations.outbox") == 0
        assert await seats_available(catalog_stub, trip_id, day) == 5
    finally:
        await running.stop()


async def test_health_is_not_serving_while_the_database_is_unreachable():
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    running = await serve(build_guests, GuestSettings, unreachable)
    try:
        assert await health_of(running.address) == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        await running.stop()


async def test_health_is_serving_with_database_and_broker(reservations_service):
    assert await eventually(lambda: _serving(reservations_service.address))


async def test_outbound_deadline_is_the_callers_remaining_time(reservations_service, guests_stub, catalog_stub):
    stub = reservations_pb2_grpc.ReservationServiceStub(reservations_service.channel)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    failure = await fails(stub.CreateReservation(create_request(guest_id, trip_id, day), timeout=0.001))
    assert failure.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert uuid.UUID(trip_id)


async def test_liveness_stays_serving_while_the_database_is_unreachable():
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    running = await serve(build_guests, GuestSettings, unreachable)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            alive = await stub.Check(health_pb2.HealthCheckRequest(service=LIVENESS), timeout=2)
            ready = await stub.Check(
                health_pb2.HealthCheckRequest(service="novatrek.guests.v1.GuestService"), timeout=2
            )
        assert (alive.status, ready.status) == (
            health_pb2.HealthCheckResponse.SERVING,
            health_pb2.HealthCheckResponse.NOT_SERVING,
        )
    finally:
        await running.stop()
