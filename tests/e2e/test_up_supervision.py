"""`novatrek up` as a local supervisor: payments is killed (-9) while partner bookings run through the
gateway. The rest of the mesh keeps answering, payments comes back SERVING, bookings succeed again,
the output says what happened, and no seat stays held for a booking that did not happen. The
gateway, killed too, comes back as well."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta

import grpc
import psutil
import pytest
from google.type import date_pb2
from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2, reservations_pb2_grpc

from services.cli.children import port_free
from tests.e2e.running import GATEWAY_OFFSET, Up, check_serving, curl_request, free_base_port, http_status

PACE_S = 0.15  # per thread: two threads stay below the gateway's 20 bookings/s per key


class BookingLoad:
    """Partner bookings of one seat through the gateway's public listener, as the banner's curl line
    makes them, on two threads until stopped; every answer is recorded as (started, finished, status)."""

    def __init__(self, curl_line: str, day: date) -> None:
        self.url, self.headers, body = curl_request(curl_line)
        trip_date = {"year": day.year, "month": day.month, "day": day.day}
        self.body = json.dumps({**json.loads(body), "tripDate": trip_date, "partySize": 1}).encode()
        self.answers: list[tuple[float, float, int]] = []
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]

    def __enter__(self) -> BookingLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(60)

    def _book(self) -> int:
        headers = {**self.headers, "Idempotency-Key": f"load-{uuid.uuid4()}"}
        request = urllib.request.Request(self.url, data=self.body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code
        except OSError:
            return 0  # no answer at all

    def _run(self) -> None:
        while not self.stopped.wait(PACE_S):
            started = time.monotonic()
            self.answers.append((started, time.monotonic(), self._book()))

    def booked_since(self, since: float) -> int:
        return sum(1 for started, _, status in self.answers if started > since and status == 200)

    def wait_booked(self, count: int, since: float, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.booked_since(since) < count:
            assert time.monotonic() < deadline, f"fewer than {count} bookings since {since}: {self.answers[-20:]}"
            time.sleep(0.1)


def proto_date(day: date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def open_departure(catalog: str, trip_id: str, day: date, capacity: int) -> None:
    with grpc.insecure_channel(catalog) as channel:
        departure = catalog_pb2.Departure(trip_id=trip_id, departure_date=proto_date(day), capacity=capacity)
        request = catalog_pb2.CreateDepartureRequest(departure=departure)
        catalog_pb2_grpc.CatalogServiceStub(channel).CreateDeparture(request, timeout=10)


def seats_held(catalog: str, trip_id: str, day: date) -> int:
    with grpc.insecure_channel(catalog) as channel:
        request = catalog_pb2.ListDeparturesRequest(
            trip_id=trip_id, start_date=proto_date(day), end_date=proto_date(day)
        )
        [departure] = catalog_pb2_grpc.CatalogServiceStub(channel).ListDepartures(request, timeout=10).departures
        return departure.seats_held


def reservations_of(address: str, trip_id: str, day: date) -> list[reservations_pb2.Reservation]:
    found, token = [], ""
    with grpc.insecure_channel(address) as channel:
        stub = reservations_pb2_grpc.ReservationServiceStub(channel)
        while True:
            request = reservations_pb2.SearchReservationsRequest(
                trip_id=trip_id,
                trip_date_from=proto_date(day),
                trip_date_to=proto_date(day),
                page_size=100,
                page_token=token,
            )
            page = stub.SearchReservations(request, timeout=10)
            found += page.reservations
            if not (token := page.next_page_token):
                return found


def seat_ledger(addresses: dict, trip_id: str, day: date) -> tuple[int, int, int]:
    """(seats held in trip-catalog, seats of live reservations, reservations still pending)."""
    reservations = reservations_of(addresses["reservations"][0], trip_id, day)
    live = [r for r in reservations if r.status != reservations_pb2.RESERVATION_STATUS_CANCELLED]
    pending = [r for r in live if r.status == reservations_pb2.RESERVATION_STATUS_PENDING]
    return seats_held(addresses["trip-catalog"][0], trip_id, day), sum(r.party_size for r in live), len(pending)


def wait_settled(addresses: dict, trip_id: str, day: date, timeout_s: float = 90.0) -> tuple[int, int, int]:
    """Compensations may still run: waits until every held seat belongs to a settled live reservation."""
    deadline = time.monotonic() + timeout_s
    while (ledger := seat_ledger(addresses, trip_id, day))[0] != ledger[1] or ledger[2]:
        assert time.monotonic() < deadline, f"seats held, seats of live reservations, pending: {ledger}"
        time.sleep(0.5)
    return ledger


@pytest.mark.timeout(600)
def test_up_restarts_a_killed_service_while_bookings_go_on(tmp_path, up_env):
    data_dir, base = tmp_path / "novatrek-data", free_base_port()
    up = Up(data_dir, base, up_env)
    try:
        up.wait_banner()
        addresses, pids = up.addresses(), up.children()
        assert set(pids) == {*addresses, "gateway"}, pids
        curl_line = next(ln.strip() for ln in up.lines if ln.strip().startswith("curl "))
        _, _, body = curl_request(curl_line)
        trip_id, day = json.loads(body)["tripId"], datetime.now(UTC).date() + timedelta(days=45)
        open_departure(addresses["trip-catalog"][0], trip_id, day, capacity=5000)

        with BookingLoad(curl_line, day) as load:
            load.wait_booked(5, since=0)
            os.kill(pids["payments"], signal.SIGKILL)
            crashed = up.wait_output("payments crashed (killed by SIGKILL)")
            up.wait_output("restarting payments in 0.5 s", after=crashed)
            check_serving({n: a for n, a in addresses.items() if n != "payments"})  # the others never stopped
            back = up.wait_output("payments is back", after=crashed)
            back_at = time.monotonic()
            check_serving({"payments": addresses["payments"]})
            load.wait_booked(10, since=back_at)
        first_ok = min(started for started, _, status in load.answers if started > back_at and status == 200)
        assert {status for started, _, status in load.answers if started >= first_ok} == {200}, load.answers[-30:]

        now = up.children()
        assert now["payments"] != pids["payments"] and {**now, "payments": 0} == {**pids, "payments": 0}
        assert "giving up" not in up.output and back > crashed
        held, live, _ = wait_settled(addresses, trip_id, day)
        assert held == live >= load.booked_since(0)

        os.kill(now["gateway"], signal.SIGKILL)  # the gateway is a child like the others
        up.wait_output("gateway is back", after=up.wait_output("gateway crashed (killed by SIGKILL)"))
        assert http_status(f"http://127.0.0.1:{base + GATEWAY_OFFSET}/healthz") == 200
        now = up.children()

        assert up.interrupt() == 0, up.output
    finally:
        up.kill()
    assert not any(psutil.pid_exists(pid) for pid in [*pids.values(), *now.values()])
    for addr, _ in addresses.values():
        assert port_free("127.0.0.1", int(addr.rsplit(":", 1)[1])), f"{addr} still taken after `up` stopped"
    assert port_free("127.0.0.1", base + GATEWAY_OFFSET)
