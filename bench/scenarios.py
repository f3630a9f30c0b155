"""What the load process calls. Each factory is async and returns (call, close); `call(seq)` makes
one request and raises on any failure."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import grpc
from google.type import money_pb2
from novatrek.checkout.v1 import checkout_pb2, checkout_pb2_grpc
from novatrek.partners.v1 import partners_pb2, partners_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2 as res
from novatrek.reservations.v1 import reservations_pb2_grpc

from bench.echo_server import METHOD
from bench.stack import BENCH_SKU
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


async def get_reservation(address: str, reservation_ids: list[str], connections: int = 1):
    """`connections` > 1: that many connections (a channel each, its own subchannel pool), calls in
    turn, so that the workers of a service started with --processes all get calls."""
    options = [("grpc.use_local_subchannel_pool", 1)] if connections > 1 else []
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(connections)]
    stubs = [reservations_pb2_grpc.ReservationServiceStub(channel) for channel in channels]

    async def call(seq: int) -> None:
        request = res.GetReservationRequest(reservation_id=random.choice(reservation_ids))
        await stubs[seq % connections].GetReservation(request, timeout=5)

    async def close() -> None:
        for channel in channels:
            await channel.close()

    return call, close


async def search_reservations(address: str, guest_ids: list[str]):
    channel, stub = _reservations(address)

    async def call(seq: int) -> None:
        await stub.SearchReservations(
            res.SearchReservationsRequest(guest_id=random.choice(guest_ids), page_size=10), timeout=5
        )

    return call, channel.close


def _booking_target(seq: int, guest_ids: list[str], departures: list[tuple[str, str]]) -> tuple[str, str, date]:
    trip_id, day = departures[seq % len(departures)]
    return guest_ids[seq % len(guest_ids)], trip_id, date.fromisoformat(day)


async def create_reservation(address: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    channel, stub = _reservations(address)

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        await stub.CreateReservation(
            res.CreateReservationRequest(
                request_id=str(uuid.uuid4()),
                guest_id=guest_id,
                trip_id=trip_id,
                trip_date=date_to_proto(day),
                party_size=1,
            ),
            timeout=10,
        )

    return call, channel.close


async def partner_create_booking(address: str, api_key: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    channel = grpc.aio.insecure_channel(address)
    stub = partners_pb2_grpc.PartnerServiceStub(channel)

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        metadata = (("authorization", f"Bearer {api_key}"), ("idempotency-key", uuid.uuid4().hex))
        request = partners_pb2.CreatePartnerBookingRequest(
            guest_id=guest_id, trip_id=trip_id, trip_date=date_to_proto(day), party_size=1
        )
        await stub.CreatePartnerBooking(request, timeout=15, metadata=metadata)

    return call, channel.close


async def list_partner_bookings(address: str, api_key: str):
    """A partner's newest page of bookings (ListPartnerBookings, 10 a page)."""
    channel = grpc.aio.insecure_channel(address)
    stub = partners_pb2_grpc.PartnerServiceStub(channel)
    metadata = (("authorization", f"Bearer {api_key}"),)

    async def call(seq: int) -> None:
        await stub.ListPartnerBookings(
            partners_pb2.ListPartnerBookingsRequest(page_size=10), timeout=5, metadata=metadata
        )

    return call, channel.close


async def partner_create_booking_rest(
    base_url: str, api_key: str, guest_ids: list[str], departures: list[tuple[str, str]]
):
    import httpx

    client = httpx.AsyncClient(
        base_url=base_url, timeout=15, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)
    )

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        body = {
            "guestId": guest_id,
            "tripId": trip_id,
            "tripDate": {"year": day.year, "month": day.month, "day": day.day},
            "partySize": 1,
        }
        answer = await client.post(
            "/v1/bookings",
            json=body,
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": uuid.uuid4().hex},
        )
        answer.raise_for_status()

    return call, client.aclose


def _positional(statement) -> tuple[str, list[str]]:
    """A SQLAlchemy statement as asyncpg runs it: SQL with $n and the parameter names in order."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    compiled = statement.compile(dialect=dialect())
    return str(compiled), list(compiled.positiontup)


async def pg_txn(dsn: str, guest_ids: list[str], departures: list[tuple[str, str]]):
    """The `pg_txn` baseline: the statements CreateReservation runs — the replay check, the seat
    release announced before the hold, and the one-statement insert (key, reservation, lead
    participant, status history, outbox row) — compiled from the service's own SQLAlchemy
    statements and run straight on asyncpg, each on its own (autocommit) as the service does."""
    import json

    import asyncpg

    from services.chassis.outbox import outbox_row
    from services.reservations import events
    from services.reservations.db import CREATE, FINGERPRINT, create_params
    from services.reservations.domain import Participant, Reservation, Status, StatusChange, new_confirmation_code
    from services.reservations.releases import ANNOUNCE, announce_params

    pool = await asyncpg.create_pool(dsn, min_size=4, max_size=32)
    statements = {
        name: _positional(statement)
        for name, statement in (("replay", FINGERPRINT), ("announce", ANNOUNCE), ("create", CREATE))
    }

    async def run(conn, name: str, params: dict) -> None:
        sql, order = statements[name]
        await conn.execute(sql, *(json.dumps(params[p]) if isinstance(params[p], dict) else params[p] for p in order))

    async def call(seq: int) -> None:
        guest_id, trip_id, day = _booking_target(seq, guest_ids, departures)
        rid, now = uuid.uuid4(), datetime.now(UTC)
        r = Reservation(
            rid,
            uuid.UUID(guest_id),
            uuid.UUID(trip_id),
            new_confirmation_code(),
            Status.PENDING,
            day,
            1,
            Decimal("99.50"),
            "USD",
            1,
            now,
            now,
        )
        lead = Participant(uuid.uuid4(), rid, r.guest_id, "lead", False, now)
        async with pool.acquire() as conn:
            await run(conn, "replay", {"wanted": rid})
            await run(conn, "announce", announce_params(rid, day, r.trip_id, now))
            await run(
                conn,
                "create",
                create_params(
                    r,
                    "f" * 64,
                    lead,
                    StatusChange(r, None, "bench", "created"),
                    outbox_row(events.created(r), "//novatrek.io/bench", now),
                ),
            )

    return call, pool.close


async def checkout(address: str, guest_ids: list[str]):
    """A checkout of a fresh cart (one bench SKU, stocked plenty): reserve, authorize, create order."""
    channel = grpc.aio.insecure_channel(address)
    stub = checkout_pb2_grpc.CheckoutServiceStub(channel)
    price = money_pb2.Money(currency_code="EUR", units=19, nanos=900_000_000)
    line = checkout_pb2.CartLine(sku=BENCH_SKU, name="Bench trail pack", unit_price=price, quantity=1)

    async def call(seq: int) -> None:
        request = checkout_pb2.CheckoutCartRequest(
            cart_id=str(uuid.uuid4()),
            guest_id=guest_ids[seq % len(guest_ids)],
            lines=[line],
            payment_method_token="tok_bench",
        )
        done = (await stub.CheckoutCart(request, timeout=10)).checkout
        if done.state != checkout_pb2.CHECKOUT_STATE_COMPLETED:
            raise RuntimeError(f"checkout {done.checkout_id} ended {done.state}: {done.failure_reason}")

    return call, channel.close


async def create_booking(address: str, bookings: dict):
    """A session booking paid from the wallet (topped up with plenty in setup) on a session with room:
    resolve the customer, read the session, hold the seat, debit the wallet, confirm."""
    from novatrek.bookings.v1 import bookings_pb2, bookings_pb2_grpc

    channel = grpc.aio.insecure_channel(address)
    stub = bookings_pb2_grpc.BookingServiceStub(channel)
    customers, sessions = bookings["customers"], bookings["session_ids"]
    wallet = bookings_pb2.Payment(method=bookings_pb2.PAYMENT_METHOD_WALLET)

    async def call(seq: int) -> None:
        request = bookings_pb2.CreateBookingRequest(
            booking_id=str(uuid.uuid4()),
            company_id=bookings["company_id"],
            session_id=sessions[seq % len(sessions)],
            user_id=customers[seq % len(customers)][1],
            payment=wallet,
        )
        done = (await stub.CreateBooking(request, timeout=10)).booking
        if done.status != bookings_pb2.BOOKING_STATUS_CONFIRMED:
            raise RuntimeError(f"booking {done.booking_id} ended {done.status}: {done.failure_reason}")

    return call, channel.close
