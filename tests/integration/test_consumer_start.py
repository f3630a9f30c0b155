"""Where a new durable consumer starts: at the first retained event (a fresh deployment misses
none), or, with `start_lookback_s`, shortly before the service started (a test session sharing a
NATS whose streams keep days of other sessions' events)."""

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.broker import Broker
from services.chassis.consumer import Consumer
from services.chassis.protoconv import utcnow
from services.cli.embedded import EmbeddedNats
from tests.helpers import eventually
from tests.integration.test_events import Harness, inbox, metadata

LOOKBACK_S = 0.5


async def _started_with(tmp_path, make_database, lookback_s: float | None) -> tuple[int, int]:
    """Effects of an event published before the consumer existed, and of one published after."""
    engine = create_async_engine(await make_database(f"start_{uuid.uuid4().hex[:6]}"))
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA evtest"))
        await conn.run_sync(metadata.create_all)
    server = EmbeddedNats(tmp_path / "nats")
    try:
        setup = Broker(server.url, "setup")
        await setup.connect()
        await setup.ensure_streams()
        await setup.close()
        h = Harness(engine, server)
        before = f"before-{uuid.uuid4().hex[:6]}"
        await h.publish(before)
        published = utcnow()  # JetStream stamped it before it acknowledged (same host clock)
        # The consumer below starts looking back from after it.
        await eventually(lambda: utcnow() - published > timedelta(seconds=LOOKBACK_S), interval_s=0.05)
        old = h.consumer
        h.consumer = Consumer(
            "evtest",
            h.broker,
            old.uow_factory,
            inbox,
            old.subscriptions,
            ack_wait_s=2,
            max_deliver=3,
            retry_base_s=0.05,
            start_lookback_s=lookback_s,
        )
        async with h:
            after = f"after-{uuid.uuid4().hex[:6]}"
            await h.publish(after)
            await eventually(lambda: h.effects_of(after))
            await eventually(h.settled)  # `before` too, if it was to come
            return await h.effects_of(before), await h.effects_of(after)
    finally:
        server.stop()
        await engine.dispose()


async def test_a_new_durable_sees_every_retained_event(tmp_path, make_database):
    assert await _started_with(tmp_path, make_database, None) == (1, 1)


async def test_with_a_look_back_it_starts_shortly_before_the_service(tmp_path, make_database):
    assert await _started_with(tmp_path, make_database, LOOKBACK_S) == (0, 1)
