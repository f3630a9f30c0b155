"""Scenario 5: NATS is stopped for 30 s while partner bookings and paid reservations flow.

A NATS of the scenario's own carries every event of a whole booking path plus notifications. While
it is down the services keep answering, and their outboxes grow; once it is back the outboxes
drain and every event takes effect exactly once on the consumer side, counted in the databases
against the writes that announced them: one partner notification per confirmed booking, one guest
notification per status change, one payment confirmation per paid reservation."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import pytest
from novatrek.payments.v1 import payments_pb2, payments_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2_grpc

from services.cli.embedded import EmbeddedNats
from tests.helpers import eventually
from tests.integration.booking import create_request, new_departure, new_guest
from tests.reliability.faults import Load, partner_booking, summary
from tests.reliability.ledger import count, rows
from tests.reliability.mesh import add_notifications, new_partner, whole_mesh

OUTAGE_S = float(os.environ.get("NOVATREK_BROKER_OUTAGE_SECONDS", "30"))


def paid_reservation(mesh, guest_id: str, trip_id: str, day):
    """A reservation made directly and paid: payment.processed is what confirms it."""
    reservations = reservations_pb2_grpc.ReservationServiceStub(mesh.reservations.channel)
    payments = payments_pb2_grpc.PaymentServiceStub(mesh.payments.channel)

    async def book_and_pay(timeout_s: float) -> str:
        r = (
            await reservations.CreateReservation(create_request(guest_id, trip_id, day, 1), timeout=timeout_s)
        ).reservation
        await payments.ProcessPayment(
            payments_pb2.ProcessPaymentRequest(
                request_id=str(uuid.uuid4()),
                reservation_id=r.reservation_id,
                amount=r.total_amount,
                method_reference="tok_visa",
            ),
            timeout=timeout_s,
        )
        return r.reservation_id

    return book_and_pay


async def outbox_rows(mesh) -> int:
    return sum(
        [
            await count(url, f"{schema}.outbox")
            for url, schema in (
                (mesh.db.reservations, "reservations"),
                (mesh.db.payments, "payments"),
                (mesh.db.partners, "partners"),
            )
        ]
    )


async def delivered(mesh, notifications_url: str) -> dict[str, tuple[dict, dict]]:
    """(what the consumers did, what the committed writes call for), per kind of event."""
    per = "SELECT {key}::text, count(*) FROM {table} WHERE {where} GROUP BY 1"
    grouped = lambda url, **q: rows(url, per.format(**q))
    return {
        "partner confirmations": (
            dict(
                await grouped(
                    notifications_url,
                    key="booking_id",
                    table="notifications.notifications",
                    where="kind = 'partner_booking_confirmed'",
                )
            ),
            {
                b: 1
                for (b, _) in await grouped(
                    mesh.db.partners, key="booking_id", table="partners.partner_bookings", where="status = 'confirmed'"
                )
            },
        ),
        "status changes": (
            dict(
                await grouped(
                    notifications_url,
                    key="reservation_id",
                    table="notifications.notifications",
                    where="kind = 'reservation_status_changed'",
                )
            ),
            dict(
                await grouped(
                    mesh.db.reservations,
                    key="reservation_id",
                    table="reservations.status_history",
                    where="old_status IS NOT NULL",
                )
            ),
        ),
        "payment confirmations": (
            dict(
                await grouped(
                    mesh.db.reservations,
                    key="reservation_id",
                    table="reservations.status_history",
                    where="changed_by = 'payments'",
                )
            ),
            {
                r: 1
                for (r, _) in await grouped(
                    mesh.db.payments, key="reservation_id", table="payments.payments", where="status = 'succeeded'"
                )
            },
        ),
    }


async def all_delivered(mesh, notifications_url: str) -> bool:
    return all(done == due for done, due in (await delivered(mesh, notifications_url)).values())


@pytest.mark.timeout(240)
async def test_a_broker_outage_grows_the_outbox_then_every_event_takes_effect_once(tmp_path, make_database):
    nats = EmbeddedNats(tmp_path / "nats")
    # The default deadlines: this test is about the broker, and a 1 s one is outlived under the suite's load.
    mesh = await whole_mesh(make_database, nats.url, outbound_timeout_s=3.0)
    notifications = await add_notifications(mesh, make_database, nats.url)
    try:
        _, key = await new_partner(mesh.partners_stub)
        guest_id, (trip_id, day) = (
            await new_guest(mesh.guests_stub),
            await new_departure(mesh.catalog_stub, capacity=5000),
        )
        async with (
            Load(
                partner_booking(mesh.partners_stub, key, guest_id, trip_id, day), workers=4, max_calls=600
            ) as bookings,
            Load(paid_reservation(mesh, guest_id, trip_id, day), workers=2, max_calls=300) as paid,
        ):
            await bookings.successes(4, timeout_s=30)
            await eventually(
                lambda: count(notifications.database_url, "notifications.notifications"), timeout_s=30
            )  # events flow
            nats.stop()
            down_at, peak = time.monotonic(), 0
            while time.monotonic() - down_at < OUTAGE_S:
                peak = max(peak, await outbox_rows(mesh))
                await asyncio.sleep(1.0)
            nats = EmbeddedNats(nats.data_dir, port=nats.port)
            up_at = time.monotonic()
            await asyncio.sleep(2.0)  # load goes on across the return
        await eventually(lambda: _empty(mesh), timeout_s=60, interval_s=0.5)
        drained_s = time.monotonic() - up_at
        await eventually(lambda: all_delivered(mesh, notifications.database_url), timeout_s=60, interval_s=0.5)
        consumed_s = time.monotonic() - up_at
        await asyncio.sleep(1.0)  # a late duplicate would show now
        outcome = await delivered(mesh, notifications.database_url)
        figures = {
            "bookings": summary(bookings.outcomes),
            "paid_reservations": summary(paid.outcomes),
            "outbox_peak_rows": peak,
            "outbox_drained_after_s": round(drained_s, 1),
            "all_consumed_after_s": round(consumed_s, 1),
            "events": {kind: sum(due.values()) for kind, (_, due) in outcome.items()},
        }
        print("RELIABILITY broker-outage", json.dumps(figures))
        assert peak > 0 and not [o for o in bookings.outcomes + paid.outcomes if o.code.name != "OK"], figures
        for kind, (done, due) in outcome.items():
            assert done == due, kind
        assert set(paid.confirmed()) <= set(outcome["payment confirmations"][1])
    finally:
        await mesh.stop()
        nats.stop()


async def _empty(mesh) -> bool:
    return await outbox_rows(mesh) == 0
