"""Scenario 1, overbooking storm: 300 bookings at once for a departure of 40 seats, half as direct
CreateReservation calls, half as partner REST bookings through the gateway; exactly 40 succeed, the
rest are SOLD_OUT, and the databases agree seat for seat and commission for commission."""

from __future__ import annotations

import asyncio
import time
import uuid

from tests.integration.booking import create_request, new_departure, new_guest, seats_available
from tests.reliability.storms import (
    CALL_TIMEOUT_S,
    assert_commissions_match,
    bearer,
    booking_json,
    grpc_outcome,
    live_reservations,
    partner_ledger,
    partners,
    response_outcome,
    rest_outcome,
    seats_of_departure,
    storm_gateway,
    tally,
)

SEATS, CALLS, GUESTS, PARTNERS = 40, 300, 10, 5
# What a loser may hear, and nothing else: no 5xx, no UNAVAILABLE, no deadline.
SOLD_OUT = {("FAILED_PRECONDITION", "SOLD_OUT"), ("400", "SOLD_OUT")}


PARTNER_ATTEMPTS = 3


async def test_300_bookings_for_40_seats(
    reservations_service,
    catalog_service,
    partners_service,
    payments_service,
    reservations_stub,
    guests_stub,
    catalog_stub,
    partners_stub,
):
    trip_id, day = await new_departure(catalog_stub, capacity=SEATS)
    guests = [await new_guest(guests_stub) for _ in range(GUESTS)]
    keys = [key for _, key in await partners(partners_stub, PARTNERS)]

    async with storm_gateway(partners_service.address) as api:

        def direct(n: int):
            call = reservations_stub.CreateReservation(
                create_request(guests[n % GUESTS], trip_id, day, 1), timeout=CALL_TIMEOUT_S
            )
            return grpc_outcome(call, lambda answer: answer.reservation.reservation_id)

        async def partner(n: int):
            # As a partner's client does: a 503 (a dependency slow under the storm; its seat was given
            # back) is retried after its Retry-After with the same Idempotency-Key.
            body = booking_json(guests[n % GUESTS], trip_id, day)
            headers = bearer(keys[n % PARTNERS], f"storm-{uuid.uuid4()}")
            for _ in range(PARTNER_ATTEMPTS - 1):
                response = await api.post("/v1/bookings", json=body, headers=headers)
                if response.status_code != 503:
                    return response_outcome(response)
                await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 2.0))
            return await rest_outcome(api.post("/v1/bookings", json=body, headers=headers))

        first_seat_taken = asyncio.Event()

        async def once_partners_hold(n: int):
            # A partner booking holds its seat several calls into its pipeline: started together, the
            # direct calls (one hop) would take every seat before any partner got there. They start
            # once partners hold one, and from then on both paths race for the rest.
            await first_seat_taken.wait()
            return await direct(n)

        async def watch() -> None:
            give_up = time.monotonic() + CALL_TIMEOUT_S  # no seat ever taken: the outcomes will say why
            while await seats_available(catalog_stub, trip_id, day) == SEATS and time.monotonic() < give_up:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            first_seat_taken.set()

        started = time.monotonic()
        watcher = asyncio.create_task(watch())
        outcomes = await asyncio.gather(*((once_partners_hold if n % 2 else partner)(n) for n in range(CALLS)))
        seconds = time.monotonic() - started
        await watcher

    direct_wins = [o for o in outcomes[1::2] if o.ok]
    partner_wins = [o for o in outcomes[0::2] if o.ok]
    print(
        f"\noverbooking storm: {CALLS} calls in {seconds:.1f}s; direct {tally(outcomes[1::2])}, partner "
        f"{tally(outcomes[0::2])}"
    )
    assert len(direct_wins) + len(partner_wins) == SEATS, tally(outcomes)
    assert {(o.status, o.reason) for o in outcomes if not o.ok} <= SOLD_OUT, tally(outcomes)

    assert await seats_of_departure(catalog_service.database_url, trip_id, day) == (SEATS, SEATS)
    live = await live_reservations(reservations_service.database_url, trip_id)
    assert len(live) == SEATS and all(size == 1 for _, size in live)
    bookings, records, payouts = await partner_ledger(
        partners_service.database_url, payments_service.database_url, trip_id
    )
    # Every partner success is one booking whose reservation is live; every direct success is live too.
    assert set(map(str, bookings)) == {o.ident for o in partner_wins}
    assert {str(r) for r, _ in live} == {str(r) for r in bookings.values()} | {o.ident for o in direct_wins}
    assert_commissions_match(bookings, records, payouts)
