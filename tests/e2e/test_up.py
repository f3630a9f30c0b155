"""`novatrek up` as a user runs it: a subprocess that starts the whole mesh, prints a banner, answers
health, serves the demo data, works with the grpcurl lines it prints, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc

from services.cli.children import port_free
from services.cli.demo import GEAR, TRIPS
from services.cli.registry import REGISTRY
from tests.e2e.running import GATEWAY_OFFSET, Up, check_serving, free_base_port, http_json, http_status, run_curl
from tests.helpers import eventually_blocking


def list_trips(address: str) -> list[catalog_pb2.Trip]:
    with grpc.insecure_channel(address) as channel:
        stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        return list(stub.ListTrips(catalog_pb2.ListTripsRequest(page_size=100), timeout=5).trips)


def wait_webhook(log: Path, booking_id: str, timeout_s: float = 60.0) -> dict:
    """The delivery of a booking's confirmation as the local webhook receiver logged it."""

    def delivered() -> dict | None:
        lines = log.read_text().splitlines() if log.exists() else []
        return next(
            (e for e in map(json.loads, lines) if e["body"]["data"]["booking"]["bookingId"] == booking_id), None
        )

    return eventually_blocking(delivered, timeout_s)


def check_session_bookings(up: Up, internal: str) -> None:
    """The printed session-booking curls as a newcomer runs them: a guest books by card on the public
    guest path; the demo customer, with the printed token, books from the topped-up wallet and lists
    their bookings; the business sees both in the session view (internal listener)."""
    curls = [ln.strip() for ln in up.lines if ln.strip().startswith("curl ") and "/api/client/" in ln]
    guest, wallet, mine = (
        next(c for c in curls if marker in c) for marker in ("/guest/", "/api/client/bookings ", "my-bookings")
    )
    at = next(i for i, ln in enumerate(up.lines) if ln.startswith("Demo customer token"))
    assert f"Bearer {up.lines[at + 1].strip()}" in wallet and up.lines[at + 1].strip().startswith("eyJ")
    status, guest_booked = run_curl(guest)
    assert status == 200 and guest_booked["booking"]["status"] == "BOOKING_STATUS_CONFIRMED", guest_booked
    status, paid = run_curl(wallet)
    booking = paid["booking"]
    assert (booking["status"], booking["paymentMethod"], booking["walletDebited"]) == (
        "BOOKING_STATUS_CONFIRMED", "PAYMENT_METHOD_WALLET", True,
    ), paid  # fmt: skip
    status, listed = run_curl(mine)
    assert [b["bookingId"] for b in listed["bookings"]] == [booking["bookingId"]], listed
    view = http_json(f"{internal}/api/business/sessions/{guest_booked['booking']['sessionId']}")["view"]
    assert view["activeBookingsCount"] >= 1 and guest_booked["booking"]["bookingId"] in {
        b["bookingId"] for b in view["bookings"]
    }, view


def check_coalition_loyalty(up: Up) -> None:
    """The printed partner-network lines in order (grpcurl prints the proto field names): the demo
    guest earns at the founder, redeems at the other member (one cross-business transaction), and
    today's settlement nets it to zero."""
    earned = json.loads(up.run_printed(up.grpcurl_line("/EarnPoints")))["transaction"]
    assert int(earned["points"]) == 500, earned
    redeemed = json.loads(up.run_printed(up.grpcurl_line("/RedeemAcrossNetwork")))
    (transaction,) = redeemed["transactions"]
    assert int(transaction["points"]) == 200 and transaction["value"] == {"currency_code": "EUR", "units": "10"}, (
        redeemed
    )
    settled = json.loads(up.run_printed(up.grpcurl_line("/SettleRevenue")))["settlement"]
    assert int(settled["transaction_count"]) == 1, settled
    (transfer,) = settled["transfers"]
    assert (transfer["from_company_id"], transfer["to_company_id"]) == (
        transaction["issuer_company_id"], transaction["redeemer_company_id"],
    ), settled  # fmt: skip


@pytest.mark.timeout(600)
def test_up_runs_the_mesh_with_demo_data_and_stops_cleanly(tmp_path, up_env):
    data_dir, base = tmp_path / "novatrek-data", free_base_port()
    first = min(s.port for s in REGISTRY.values())
    expected = {name: (f"127.0.0.1:{base + s.port - first}", s.grpc_service) for name, s in REGISTRY.items()}

    up = Up(data_dir, base, up_env)
    try:
        up.wait_banner()
        gateway = f"127.0.0.1:{base + GATEWAY_OFFSET}"
        assert up.addresses() == expected and any(ln.split()[:2] == ["gateway", gateway] for ln in up.lines), up.output
        assert str(data_dir) in up.output
        token_file = data_dir / "secrets" / "admin_token"  # where it is, never what it is
        assert any("admin token" in ln and str(token_file) in ln for ln in up.lines), up.output
        assert token_file.read_text() not in up.output
        assert f"{data_dir / 'logs'}/<service>.log" in up.output
        check_serving(expected)

        trips = {t.name: t for t in list_trips(expected["trip-catalog"][0])}
        assert {t.name for t in TRIPS} <= set(trips), up.output
        for demo in TRIPS:
            price = trips[demo.name].price_per_person
            assert price.currency_code == demo.currency
            assert Decimal(price.units) + Decimal(price.nanos) / Decimal(10**9) == demo.price

        listing = up.run_printed(up.grpcurl_line(" list"))
        assert "novatrek.reservations.v1.ReservationService" in listing
        assert "grpc.health.v1.Health" in listing and "grpc.reflection" in listing

        stock = up.run_printed(up.grpcurl_line("/GetStock"))  # the demo gear, stocked through inventory
        assert f'"{GEAR[0].sku}"' in stock and GEAR[0].name in stock and str(GEAR[0].stock) in stock, stock

        created = up.run_printed(up.grpcurl_line("/CreateReservation"))
        assert '"reservationId"' in created or '"reservation_id"' in created, created
        assert "RESERVATION_STATUS_" in created, created

        booked = up.run_printed(up.grpcurl_line("/CreatePartnerBooking"))  # as the demo partner, by its printed key
        assert "PARTNER_BOOKING_STATUS_CONFIRMED" in booked, booked
        assert up.run_printed(up.grpcurl_line("/CreatePartnerBooking")) == booked  # same Idempotency-Key: same answer
        assert "webhook receiver" in up.output
        booking = json.loads(booked)["booking"]
        delivered = wait_webhook(data_dir / "webhooks.log", booking.get("bookingId") or booking["booking_id"])
        assert delivered["verified"] and delivered["answered"] == 200, (
            delivered
        )  # signed with the demo partner's secret
        # The receiver logs before it answers; DELIVERED is recorded just after.
        eventually_blocking(
            lambda: "NOTIFICATION_STATUS_DELIVERED" in up.run_printed(up.grpcurl_line("/ListNotifications"))
        )

        status, rest = run_curl(next(ln.strip() for ln in up.lines if ln.strip().startswith("curl ")))  # as printed
        assert status == 200 and rest["booking"]["status"] == "PARTNER_BOOKING_STATUS_CONFIRMED", rest
        internal = f"http://127.0.0.1:{base + GATEWAY_OFFSET + 1}"
        assert http_status(f"{internal}/reservations?pageSize=1") == 200  # the seed's REST surface, internal only
        assert http_status(f"{internal}/v1/stock/{GEAR[0].sku}") == 200  # ordering: internal only too
        assert http_status(f"http://{gateway}/v1/stock/{GEAR[0].sku}") == 404
        checked_out = json.loads(up.run_printed(up.grpcurl_line("/CheckoutCart")))["checkout"]  # as printed
        order_id = checked_out.get("orderId") or checked_out.get("order_id")
        assert checked_out["state"] == "CHECKOUT_STATE_COMPLETED" and order_id, checked_out
        order = http_json(f"{internal}/v1/orders/{order_id}")["order"]  # the Get Order query
        assert (order["orderId"], order["status"]) == (order_id, "ORDER_STATUS_CONFIRMED"), order
        check_session_bookings(up, internal)
        check_coalition_loyalty(up)
        assert (
            http_status(f"http://{gateway}/reservations") == 404
            and http_status(f"http://{gateway}/openapi.json") == 200
        )

        assert up.interrupt() == 0, up.output
        assert "stopped." in up.output
    finally:
        up.kill()
    for addr, _ in expected.values():
        assert port_free("127.0.0.1", int(addr.rsplit(":", 1)[1])), f"{addr} still taken after `up` stopped"

    # A second `up` on the same data finds its demo data and adds none twice.
    again = Up(data_dir, base, up_env)
    try:
        again.wait_banner()
        check_serving(expected)
        names = [t.name for t in list_trips(expected["trip-catalog"][0])]
        assert sorted(names) == sorted(trips), "the second `up` created demo trips again"
        guest_lines = lambda u: sorted(ln for ln in u.lines if ln.strip().startswith("guest "))
        assert guest_lines(again) == guest_lines(up) and len(guest_lines(up)) == 3
        gear_lines = lambda u: [
            re.sub(r"\d+ available", "n available", ln) for ln in u.lines if ln.strip().startswith("gear ")
        ]
        assert gear_lines(again) == gear_lines(up) and len(gear_lines(up)) == len(GEAR)
        available = {ln.split()[1]: int(ln.split()[4]) for ln in again.lines if ln.strip().startswith("gear ")}
        assert [available[g.sku] for g in GEAR[:2]] == [GEAR[0].stock - 1, GEAR[1].stock - 2]  # the checkout's
        company_lines = lambda u: [
            ln for ln in u.lines if re.match(r"\s*(company|customer|network) [0-9a-f-]{36} ", ln)
        ]
        assert (
            company_lines(again) == company_lines(up) and len(company_lines(up)) == 4
        )  # 2 companies, customer, network
        key_line = lambda u: next(ln for ln in u.lines if ln.strip().startswith("ntk_"))
        assert key_line(again) == key_line(up), "the demo partner's key must survive a restart"
        assert again.interrupt() == 0, again.output
        assert (data_dir / "logs" / "reservations.log.1").read_text().strip()  # the first run's log is kept
    finally:
        again.kill()
