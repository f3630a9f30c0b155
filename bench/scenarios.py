"""What the load process calls. Each factory is async and returns (call, close); `call(seq)` makes
one request and raises on any failure."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime

import grpc

from bench.echo_server import METHOD
from novatrek.partners.v1 import partners_pb2, partners_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2 as res
from novatrek.reservations.v1 import reservations_pb2_grpc
from services.chassis.protoconv import date_to_proto

PAYLOAD = b"x" * 128


async def grpc_echo(address: str):
    channel = grpc.aio.insecure_channel(address)
    echo = channel.unary_unary(METHOD)

    async def call(seq: int) -> None:
        await echo(PAYLOAD, timeout=5)

    return call, channel.close


def _reservations(address: str):
    channel = grpc.aio.insecure_channel(address)
    return channel, reservations_pb2_grpc.ReservationServiceStub(channel)


async def get_reservation(address: str, reservation_ids: list[str]):
    channel, stub = _reservations(address)

    async def call(seq: int) -> None:
        await stub.GetReservation(res.GetReservationRequest(reservation_id=random.choice(reservation_ids)), timeout=5)

    return call, channel.close


async def search_reservations(address: str, guest_ids: list[str]):
    channel, stub = _reservations(address)

    async def call(seq: int) -> None:
        await stub.SearchReservations(res.SearchReservationsRequest(guest_id=random.choice(guest_ids), page_size=10), timeout=5)

    return call, channel.close


def _booking_target(seq: int, guest_ids: list[str], departures: list[tuple[str, str]]) -> tuple[str, str, date]:
    trip_id, day = departures[seq % len(departures)]
    return guest_ids[seq % len(guest_ids)], trip_id, date.fromisoformat(day)


async def create_reservation(address: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    channel, stub = _reservations(address)

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        await stub.CreateReservation(res.CreateReservationRequest(
            request_id=str(uuid.uuid4()), guest_id=guest_id, trip_id=trip_id, trip_date=date_to_proto(day), party_size=1), timeout=10)

    return call, channel.close


async def partner_create_booking(address: str, api_key: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    channel = grpc.aio.insecure_channel(address)
    stub = partners_pb2_grpc.PartnerServiceStub(channel)

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        metadata = (("authorization", f"Bearer {api_key}"), ("idempotency-key", uuid.uuid4().hex))
        request = partners_pb2.CreatePartnerBookingRequest(guest_id=guest_id, trip_id=trip_id, trip_date=date_to_proto(day), party_size=1)
        await stub.CreatePartnerBooking(request, timeout=15, metadata=metadata)

    return call, channel.close


async def partner_create_booking_rest(base_url: str, api_key: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    import httpx

    client = httpx.AsyncClient(base_url=base_url, timeout=15, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        body = {"guestId": guest_id, "tripId": trip_id, "tripDate": {"year": day.year, "month": day.month, "day": day.day}, "partySize": 1}
        answer = await client.post("/v1/bookings", json=body, headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": uuid.uuid4().hex})
        answer.raise_for_status()

    return call, client.aclose


async def pg_txn(dsn: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    """The `pg_txn` baseline: the SQL of CreateReservation's transactions (the replay check, then
    key, reservation, lead participant, status history and outbox rows), straight on asyncpg."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=32)

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        rid, now = uuid.uuid4(), datetime.now(UTC)
        async with pool.acquire() as conn:
            async with conn.transaction():
                await conn.fetchval("SELECT request_fingerprint FROM reservations.reservation_keys WHERE reservation_id = $1", rid)
            async with conn.transaction():
                code = uuid.uuid4().hex[:12].upper()
                await conn.execute("INSERT INTO reservations.reservation_keys VALUES ($1, $2, $3, $4)", rid, code, now, "f" * 64)
                await conn.execute(
                    "INSERT INTO reservations.reservations (reservation_id, guest_id, trip_id, confirmation_code, status, trip_date,"
                    " party_size, total_amount, currency, _rev, created_at, updated_at) VALUES ($1,$2,$3,$4,'pending',$5,1,100.00,'USD',1,$6,$6)",
                    rid, uuid.UUID(guest_id), uuid.UUID(trip_id), code, day, now)
                await conn.execute("INSERT INTO reservations.participants VALUES ($1, $2, $3, 'lead', false, $4)", uuid.uuid4(), rid, uuid.UUID(guest_id), now)
                await conn.execute("INSERT INTO reservations.status_history VALUES ($1, $2, NULL, 'pending', 'bench', 'created', $3)", uuid.uuid4(), rid, now)
                await conn.execute("INSERT INTO reservations.outbox (id, subject, payload, headers) VALUES ($1, 'novatrek.booking.reservation.created', $2, '{}')", uuid.uuid4(), b"x" * 200)

    return call, pool.close
