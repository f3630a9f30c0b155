"""Shared by the overbooking and idempotency storms: partners and a REST client made for a storm, the
outcome of every call as one comparable value, and the invariants read back from the databases."""

from __future__ import annotations

import uuid
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import grpc
import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import parse_failure
from tests.integration.gateway_fixtures import date_json, live_gateway, partner_gateway_settings
from tests.integration.partner_fixtures import register

# Longer than any deadline on the way (gateway 10 s, pipeline 15 s): a storm call that gives up on
# its own would hide what the mesh answered.
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """One call's answer: `ok` with the booking/reservation id and the raw answer bytes, or the
    error as (status, reason) — gRPC code name or HTTP status — so kinds compare across transports."""

    ok: bool
    status: str
    reason: str = ""
    ident: str = ""
    raw: bytes = b""

    @property
    def label(self) -> str:
        return "OK" if self.ok else f"{self.status} {self.reason}"


async def grpc_outcome(call, ident, raw=lambda answer: answer.SerializeToString(deterministic=True)) -> Outcome:
    """`ident(response)` names what the call made; `raw(response)` is its bytes."""
    try:
        answer = await call
    except grpc.aio.AioRpcError as err:
        failure = parse_failure(err)
        return Outcome(False, failure.code.name, failure.reason or failure.message[:80])
    return Outcome(True, "OK", ident=ident(answer), raw=raw(answer))


async def rest_outcome(request) -> Outcome:
    try:
        response = await request
    except httpx.HTTPError as exc:  # a transport failure is an outcome too, and never an allowed one
        return Outcome(False, "HTTP_ERROR", type(exc).__name__)
    return response_outcome(response)


def response_outcome(response: httpx.Response) -> Outcome:
    if response.status_code == 200:
        return Outcome(True, "200", ident=response.json()["booking"]["bookingId"], raw=response.content)
    body = response.json() if response.headers.get("content-type") == "application/json" else {}
    reasons = [d.get("reason", "") for d in body.get("details", []) if d.get("@type", "").endswith("ErrorInfo")]
    return Outcome(False, str(response.status_code), reasons[0] if reasons else body.get("message", "")[:80])


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(Counter(o.label for o in outcomes))


def booking_json(guest_id: str, trip_id: str, day: date, party_size: int = 1) -> dict:
    return {"guestId": guest_id, "tripId": trip_id, "tripDate": date_json(day), "partySize": party_size}


def bearer(key: str, idempotency_key: str) -> dict:
    # The partner waits as long as the gRPC callers do (the gateway's default is 10 s).
    return {
        "Authorization": f"Bearer {key}",
        "Idempotency-Key": idempotency_key,
        "X-Request-Timeout": str(CALL_TIMEOUT_S),
    }


async def partners(stub, count: int) -> list[tuple[str, str]]:
    return [await register(stub) for _ in range(count)]


@asynccontextmanager
async def storm_gateway(partners_address: str):
    """The public listener in front of partner-integrations, with a client whose connection pool does
    not queue the storm (httpx keeps 100 connections by default: the storm would be 100 wide)."""
    async with live_gateway(partner_gateway_settings(partners_address)) as running:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(base_url=running.public.base_url, timeout=CALL_TIMEOUT_S, limits=limits) as client:
            yield client


@asynccontextmanager
async def database(url: str):
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


async def rows(url: str, query: str, **params) -> list:
    async with database(url) as conn:
        return list((await conn.execute(sa.text(query), params)).all())


async def seats_of_departure(catalog_url: str, trip_id: str, day: date) -> tuple[int, int]:
    """(seats_held on the departure row, sum of its holds): the counter and what it counts."""
    [(held, holds)] = await rows(
        catalog_url,
        """
        SELECT d.seats_held,
               COALESCE((SELECT SUM(h.seats) FROM catalog.seat_holds h WHERE h.departure_id = d.departure_id), 0)
        FROM catalog.departures d WHERE d.trip_id = :trip AND d.departure_date = :day""",
        trip=uuid.UUID(trip_id),
        day=day,
    )
    return held, int(holds)


async def live_reservations(reservations_url: str, trip_id: str) -> list:
    return await rows(
        reservations_url,
        "SELECT reservation_id, party_size FROM reservations.reservations WHERE trip_id = :trip AND status <> "
        "'cancelled'",
        trip=uuid.UUID(trip_id),
    )


async def partner_ledger(partners_url: str, payments_url: str, trip_id: str) -> tuple[dict, dict, dict]:
    """The trip's partner bookings {booking_id: reservation_id}, their commission records
    {booking_id: (record_id, amount)} and the payouts {record_id: (status, amount)} of those records."""
    bookings = dict(
        await rows(
            partners_url,
            "SELECT booking_id, reservation_id FROM partners.partner_bookings WHERE trip_id = :trip",
            trip=uuid.UUID(trip_id),
        )
    )
    records = {
        b: (r, a)
        for b, r, a in await rows(
            partners_url,
            "SELECT booking_id, commission_record_id, amount FROM partners.commission_records WHERE booking_id = "
            "ANY(:ids)",
            ids=list(bookings),
        )
    }
    payouts = {
        r: (s, a)
        for r, s, a in await rows(
            payments_url,
            "SELECT commission_record_id, status, amount FROM payments.commission_payouts WHERE commission_record_id "
            "= ANY(:ids)",
            ids=[r for r, _ in records.values()],
        )
    }
    return bookings, records, payouts


def assert_commissions_match(bookings: dict, records: dict, payouts: dict) -> None:
    """One commission record per booking, one owed payout of the same amount per record."""
    assert set(records) == set(bookings), "a booking without its commission record, or the reverse"
    for booking_id, (record_id, amount) in records.items():
        assert payouts.get(record_id) == ("owed", amount), (booking_id, payouts.get(record_id), amount)
    assert len(payouts) == len(records)
