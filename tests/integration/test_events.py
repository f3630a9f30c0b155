"""Events consumed exactly once in effect: redelivery after a crash, duplicates, dead letters and
redrive, a NATS restart with events in flight (dedicated NATS), and payment -> confirmation."""

import asyncio
import json
import subprocess
import sys
import uuid

import nats
import pytest
import sqlalchemy as sa
from novatrek.payments.v1 import events_pb2, payments_pb2
from novatrek.reservations.v1 import reservations_pb2 as res
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.broker import Broker
from services.chassis.consumer import Consumer, Subscription, inbox_table
from services.chassis.db import UnitOfWork
from services.chassis.protoconv import money_to_proto
from services.cli import events as events_cli
from services.cli.embedded import EmbeddedNats, free_port
from tests.helpers import eventually
from tests.integration.booking import create_request, new_departure, new_guest

SUBJECT = "novatrek.support.payment.processed"
metadata = sa.MetaData(schema="evtest")
effects = sa.Table("effects", metadata, sa.Column("event_id", sa.String(64)), sa.Column("payment_id", sa.String(64)))
inbox = inbox_table(metadata)


class Harness:
    """A consumer of payment events on its own NATS and database; `broken` makes the handler fail."""

    def __init__(self, engine, nats_server: EmbeddedNats) -> None:
        self.engine, self.nats_server, self.broken, self.crash_once = engine, nats_server, False, set()
        self.broker = Broker(nats_server.url, "evtest")
        uow = lambda: UnitOfWork(engine, None, "//test")
        sub = Subscription(events_pb2.PaymentProcessed, f"evtest-{uuid.uuid4().hex[:6]}", self.handle)
        self.consumer = Consumer(
            "evtest", self.broker, uow, inbox, [sub], ack_wait_s=2, max_deliver=3, retry_base_s=0.05
        )

    async def handle(self, event, uow, headers) -> None:
        await uow.conn.execute(sa.insert(effects).values(event_id=headers["ce-id"], payment_id=event.payment_id))
        if self.broken or event.payment_id in self.crash_once:
            self.crash_once.discard(event.payment_id)
            raise RuntimeError(f"handler crashed on {event.payment_id}")  # after its write: rolled back

    async def __aenter__(self):
        await self.broker.connect()
        await self.broker.ensure_streams()
        self.task = asyncio.create_task(self.consumer.run())
        return self

    async def __aexit__(self, *exc):
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.broker.close()

    async def publish(self, payment_id: str, event_id: str | None = None, msg_id: str | None = None) -> str:
        event_id = event_id or str(uuid.uuid4())
        nc = await nats.connect(self.nats_server.url)
        try:
            await nc.jetstream().publish(
                SUBJECT,
                events_pb2.PaymentProcessed(payment_id=payment_id).SerializeToString(),
                headers={"ce-id": event_id, "Nats-Msg-Id": msg_id or event_id},
                timeout=5,
            )
        finally:
            await nc.close()
        return event_id

    async def settled(self) -> bool:
        """The consumer has acknowledged every event on its subject: none is left to (re)deliver."""
        sub = self.consumer.subscriptions[0]
        info = await self.broker.nc.jetstream().consumer_info(self.broker.stream_of(sub.subject), sub.durable)
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def effects_of(self, payment_id: str) -> int:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(effects).where(effects.c.payment_id == payment_id)
                )
            ).scalar_one()


@pytest.fixture
async def harness(tmp_path, make_database):
    engine = create_async_engine(await make_database(f"events_{uuid.uuid4().hex[:6]}"))
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA evtest"))
        await conn.run_sync(metadata.create_all)
    server = EmbeddedNats(tmp_path / "nats", port=free_port())
    async with Harness(engine, server) as h:
        yield h
    h.nats_server.stop()  # the test may have restarted it
    await engine.dispose()


async def exactly_once(h: Harness, payment_id: str) -> None:
    await eventually(lambda: h.effects_of(payment_id))
    await eventually(h.settled)  # nothing more will arrive
    assert await h.effects_of(payment_id) == 1


async def test_a_handler_that_crashes_midway_is_redelivered_and_applies_once(harness):
    harness.crash_once.add("p-crash")
    await harness.publish("p-crash")
    await exactly_once(harness, "p-crash")


async def test_an_event_published_twice_with_the_same_id_applies_once(harness):
    event_id = await harness.publish("p-twice")
    await harness.publish("p-twice", event_id=event_id, msg_id=f"{event_id}-again")  # past JetStream's de-dup
    await exactly_once(harness, "p-twice")


async def test_a_poison_message_is_parked_then_redriven_after_the_fix(harness):
    harness.broken = True
    event_id = await harness.publish("p-poison")
    nc = await nats.connect(harness.nats_server.url)
    try:
        parked = await eventually(lambda: _parked(nc, event_id))
        assert parked.subject == SUBJECT and parked.deliveries == "3" and "handler crashed" in parked.reason
        assert await harness.effects_of("p-poison") == 0
        harness.broken = False  # the fix is deployed
        assert await events_cli.redrive(nc) == 1
        await exactly_once(harness, "p-poison")
        assert await events_cli.parked(nc) == []
    finally:
        await nc.close()


async def _parked(nc, event_id):
    return next((p for p in await events_cli.parked(nc) if p.event_id == event_id), None)


async def test_nats_restarted_with_events_in_flight_loses_none(harness):
    ids = [f"p-restart-{i}" for i in range(20)]
    for payment_id in ids[:10]:
        await harness.publish(payment_id)
    harness.nats_server.stop()
    await eventually(lambda: not harness.broker.connected)  # the consumer lost it, events in flight
    harness.nats_server = EmbeddedNats(harness.nats_server.data_dir, port=harness.nats_server.port)
    for payment_id in ids[10:]:
        await harness.publish(payment_id)
    for payment_id in ids:
        await eventually(lambda p=payment_id: harness.effects_of(p), timeout_s=30)
    assert [await harness.effects_of(p) for p in ids] == [1] * 20


async def test_dlq_commands_answer_from_the_cli(harness):
    out = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "events", "--nats-url", harness.nats_server.url, "dlq", "list"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and "parked message(s)" in out.stdout


async def test_a_processed_payment_confirms_the_pending_reservation(
    guests_stub, catalog_stub, reservations_stub, payments_stub, reservations_db
):
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day))).reservation
    await payments_stub.ProcessPayment(
        payments_pb2.ProcessPaymentRequest(
            request_id=str(uuid.uuid4()),
            reservation_id=r.reservation_id,
            amount=r.total_amount,
            method_reference="tok_visa",
        )
    )

    async def confirmed():
        got = (
            await reservations_stub.GetReservation(res.GetReservationRequest(reservation_id=r.reservation_id))
        ).reservation
        return got.status == res.RESERVATION_STATUS_CONFIRMED

    await eventually(confirmed)
    async with reservations_db.connect() as conn:
        by = (
            (
                await conn.execute(
                    sa.text(
                        "SELECT changed_by FROM reservations.status_history WHERE reservation_id = :id AND "
                        "new_status = 'confirmed'"
                    ),
                    {"id": r.reservation_id},
                )
            )
            .scalars()
            .all()
        )
    assert by == ["payments"]
    assert money_to_proto  # the amount came from the reservation itself


async def test_tail_prints_live_events_decoded_from_the_contract(harness):
    tail = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        "events",
        "--nats-url",
        harness.nats_server.url,
        "tail",
        "novatrek.support.>",
        "--count",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = b""
        for _ in range(50):  # the tail subscribes after it starts; publish until it has seen one
            await harness.publish("p-tail")
            try:
                line = await asyncio.wait_for(tail.stdout.readline(), 0.5)
                break
            except TimeoutError:
                continue
        shown = json.loads(line)
        assert (shown["subject"], shown["data"]["paymentId"]) == (SUBJECT, "p-tail") and shown["id"]
        assert await asyncio.wait_for(tail.wait(), 10) == 0
    finally:
        if tail.returncode is None:
            tail.kill()
