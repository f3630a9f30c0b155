"""The delivery worker's pass (`deliver_due`) against in-memory fakes of the unit of work, the
partners' webhooks and the sender, on a clock the test moves. No I/O."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import Notification, RetryPolicy, Status, Webhook
from services.notifications.worker import LOOKUP_RETRY, DeliveryWorker
from tests.helpers import FakeClock
from tests.unit.notification_fakes import (
    FakeNotificationUnitOfWork,
    FakeSender,
    FakeWebhooks,
    NotificationStore,
)

T0 = datetime(2031, 7, 1, 9, tzinfo=UTC)
POLICY = RetryPolicy(base_s=10, max_s=60, max_attempts=3, jitter=0.5)
LEASE = timedelta(seconds=60)
HOOK = Webhook("https://ota.example/hooks", "s3cret")


class World:
    def __init__(self, *answers, batch: int = 20) -> None:
        self.store, self.clock, self.webhooks = NotificationStore(), FakeClock(T0), FakeWebhooks()
        self.sender = FakeSender(*answers)
        self.worker = DeliveryWorker(
            FakeNotificationUnitOfWork.factory(self.store),
            self.webhooks,
            self.sender,
            POLICY,
            batch=batch,
            lease_s=LEASE.total_seconds(),
            clock=self.clock,
            rand=lambda: 0.5,
        )

    def due(self, webhook: Webhook | None = HOOK) -> Notification:
        """A partner notification due now, to a partner with `webhook`."""
        partner = uuid.uuid4()
        n = Notification.to_partner(
            str(uuid.uuid4()), "confirmed.v1", '{"id": 1}', T0, partner, uuid.uuid4(), uuid.uuid4()
        )
        self.store.notifications[n.notification_id] = n
        if webhook is not None:
            self.webhooks.hooks[partner] = webhook
        return n

    def now(self, n: Notification) -> Notification:
        return self.store.notifications[n.notification_id]

    def attempts(self, n: Notification) -> list[tuple[int, int]]:
        return sorted(
            (a.number, a.http_status) for a in self.store.attempts.values() if a.notification_id == n.notification_id
        )


async def test_a_due_notification_is_sent_signed_for_its_partner_and_delivered():
    w = World(200)
    n = w.due()
    assert await w.worker.deliver_due() == 1
    assert w.sender.sent == [(HOOK.url, n.event_id, n.body)]
    delivered = w.now(n)
    assert (delivered.status, delivered.attempts, delivered.target, delivered.delivered_at) == (
        Status.DELIVERED,
        1,
        HOOK.url,
        T0,
    )
    assert w.attempts(n) == [(1, 200)] and await w.worker.deliver_due() == 0


async def test_a_failed_attempt_is_retried_after_the_backoff_then_the_notification_fails():
    w = World(500, 0, 503)
    n = w.due()
    await w.worker.deliver_due()
    assert (w.now(n).status, w.now(n).next_attempt_at) == (
        Status.PENDING,
        T0 + timedelta(seconds=7.5),
    )  # 10 s less jitter
    w.clock.advance(seconds=7)
    assert await w.worker.deliver_due() == 0  # not due yet
    w.clock.advance(seconds=1)
    assert await w.worker.deliver_due() == 1
    w.clock.advance(seconds=60)
    assert await w.worker.deliver_due() == 1
    failed = w.now(n)
    assert (failed.status, failed.attempts, failed.next_attempt_at, failed.last_error) == (
        Status.FAILED,
        3,
        None,
        "HTTP 503",
    )
    assert w.attempts(n) == [(1, 500), (2, 0), (3, 503)]


async def test_a_partner_without_a_webhook_is_skipped_without_an_attempt():
    w = World()
    n = w.due(webhook=None)
    assert await w.worker.deliver_due() == 1
    assert (w.now(n).status, w.now(n).attempts, w.attempts(n), w.sender.sent) == (Status.SKIPPED, 0, [], [])


async def test_when_the_webhook_cannot_be_looked_up_the_delivery_is_postponed_without_an_attempt():
    w = World(200)
    n = w.due()
    w.webhooks.down = True
    await w.worker.deliver_due()
    postponed = w.now(n)
    assert (postponed.status, postponed.attempts, postponed.next_attempt_at) == (Status.PENDING, 0, T0 + LOOKUP_RETRY)
    w.webhooks.down = False
    w.clock.advance(seconds=LOOKUP_RETRY.total_seconds())
    await w.worker.deliver_due()
    assert w.now(n).status is Status.DELIVERED and w.attempts(n) == [(1, 200)]


async def test_a_delivery_that_breaks_stays_leased_and_comes_back_when_the_lease_ends():
    w = World(RuntimeError("a bug in the sender"), 200)
    n = w.due()
    assert await w.worker.deliver_due() == 1
    assert (w.now(n).status, w.now(n).next_attempt_at, w.attempts(n)) == (Status.PENDING, T0 + LEASE, [])
    w.clock.advance(seconds=59)
    assert await w.worker.deliver_due() == 0  # still leased: no other pass (or replica) takes it
    w.clock.advance(seconds=1)
    assert await w.worker.deliver_due() == 1 and w.now(n).status is Status.DELIVERED


@pytest.mark.parametrize("batch", [1, 2])
async def test_a_pass_claims_at_most_one_batch(batch):
    w = World(200, 200, 200, batch=batch)
    made = [w.due() for _ in range(3)]
    passes = []
    while delivered := await w.worker.deliver_due():
        passes.append(delivered)
    assert passes == ([1, 1, 1] if batch == 1 else [2, 1])
    assert {w.now(n).status for n in made} == {Status.DELIVERED}
