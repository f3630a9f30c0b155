"""What each bench scenario's request costs, counted (RPCs, statements, transactions, commits,
publishes) with the bench's own counting, held to the per-path budgets of bench/counts.py."""

from __future__ import annotations

import pytest

from bench import counts, scenarios
from tests.integration.booking import create_request, new_departure, new_guest
from tests.integration.booking_fixtures import Mesh
from tests.integration.partner_fixtures import register

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def bench_data(guests_stub, catalog_stub, reservations_stub, partners_stub):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=100)
    _, api_key = await register(partners_stub)
    made = await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, party_size=1))
    return {
        "guest_ids": [guest_id],
        "departures": [(trip_id, day.isoformat())],
        "api_key": api_key,
        "reservation_ids": [made.reservation.reservation_id],
    }


@pytest.fixture
async def booking_data(
    bookings_service, catalog_service, businesses_service, passes_service, wallet_service, payments_service
):
    """create_booking's data (a customer with a wallet topped up with plenty, a roomy session) and the
    databases whose outboxes its requests write."""
    mesh = Mesh(catalog_service, businesses_service, passes_service, wallet_service, payments_service)
    try:
        company, customer = await mesh.customer()
        session = await mesh.session(company, capacity=100)
        await mesh.top_up(company, customer.customer_id, "10000")
    finally:
        await mesh.close()
    customers = [(customer.customer_id, customer.user_id)]
    data = {"company_id": company, "customers": customers, "session_ids": [session.session_id]}
    databases = [r.database_url for r in (bookings_service, catalog_service, wallet_service, businesses_service)]
    return {"address": bookings_service.address, "bookings": data}, databases


@pytest.mark.parametrize("scenario", sorted(counts.BUDGETS))
async def test_a_request_stays_within_its_budget(
    scenario, bench_data, booking_data, reservations_service, payments_service, partners_service
):
    if scenario == "create_booking":
        args, databases = booking_data
    else:
        address = {
            "get_reservation": {"address": reservations_service.address},
            "create_reservation": {"address": reservations_service.address},
            "partner_create_booking": {"address": partners_service.address, "api_key": bench_data["api_key"]},
        }[scenario]
        wanted = {"reservation_ids"} if scenario == "get_reservation" else {"guest_ids", "departures"}
        args = {**address, **{k: bench_data[k] for k in wanted}}
        databases = [s.database_url for s in (reservations_service, payments_service, partners_service)]
    call, close = await getattr(scenarios, scenario)(**args)
    try:
        spent = await counts.count(call, 2, counts.from_registry, databases)
    finally:
        await close()
    print(scenario, spent)
    assert {k: v for k, v in spent.items() if v > counts.BUDGETS[scenario][k]} == {}, spent
