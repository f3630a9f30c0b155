"""The outbox relay's loop: how many batches (transactions) a wake-up costs."""

import sqlalchemy as sa

from services.chassis.outbox import OutboxRelay, outbox_table


async def test_a_short_batch_ends_the_drain_without_an_empty_one_after_it():
    relay = OutboxRelay(None, outbox_table(sa.MetaData()), None, batch_size=3)  # type: ignore[arg-type]
    waiting, batches = [3, 3, 1], []

    async def drain_batch() -> int:
        batches.append(waiting.pop(0) if waiting else 0)
        return batches[-1]

    relay.drain_batch = drain_batch  # type: ignore[method-assign]
    await relay.drain()
    assert batches == [3, 3, 1]  # full, full, short: done
