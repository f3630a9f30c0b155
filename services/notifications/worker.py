"""The delivery worker: sends due PENDING notifications to partners' webhooks, records every attempt,
and schedules retries. Woken after a commit that made something due; otherwise sleeps until the
next due time (at most the poll interval)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from services.chassis.protoconv import utcnow
from services.notifications.domain import Notification, RetryPolicy, Status

log = logging.getLogger("novatrek.notifications.delivery")
# partner-integrations could not say where to send: not the receiver's fault, so no attempt is counted.
LOOKUP_RETRY = timedelta(seconds=5)
MIN_SLEEP_S = 0.05


class DeliveryWorker:
    def __init__(
        self,
        uow_factory,
        webhooks,
        sender,
        policy: RetryPolicy,
        batch: int = 20,
        poll_interval_s: float = 1.0,
        lease_s: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.uow, self.webhooks, self.sender, self.policy = uow_factory, webhooks, sender, policy
        self.batch, self.poll_interval_s, self.lease = batch, poll_interval_s, timedelta(seconds=lease_s)
        self.clock, self.rand = clock, rand
        self._wake = asyncio.Event()

    def kick(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                while await self.deliver_due():
                    pass
                wait = await self._until_next_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down: try again at the next poll
                log.warning("delivery pass failed", extra={"error": repr(exc)})
                wait = self.poll_interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def deliver_due(self) -> int:
        """Claims one batch of due notifications and delivers them concurrently; returns how many."""
        async with self.uow() as uow:
            claimed = await uow.notifications.claim_due(self.clock(), self.lease, self.batch)
        results = await asyncio.gather(*(self._deliver(n) for n in claimed), return_exceptions=True)
        for n, result in zip(claimed, results, strict=False):
            if isinstance(result, Exception):  # stays leased; picked up again when the lease ends
                log.warning(
                    "delivery failed unexpectedly",
                    extra={"notification_id": str(n.notification_id), "error": repr(result)},
                )
        return len(claimed)

    async def _until_next_due(self) -> float:
        async with self.uow() as uow:
            due = await uow.notifications.next_due()
        if due is None:
            return self.poll_interval_s
        return min(self.poll_interval_s, max(MIN_SLEEP_S, (due - self.clock()).total_seconds()))

    async def _deliver(self, n: Notification) -> None:
        try:
            webhook = await self.webhooks.webhook_of(n.partner_id)
        except Exception as exc:
            log.warning(
                "cannot look up the partner's webhook; postponed",
                extra={"partner_id": str(n.partner_id), "error": repr(exc)},
            )
            await self._update(n, lambda cur: (cur.postponed(self.clock() + LOOKUP_RETRY), None))
            return
        if webhook is None:
            log.info(
                "partner has no webhook; skipped",
                extra={"notification_id": str(n.notification_id), "partner_id": str(n.partner_id)},
            )
            await self._update(n, lambda cur: (cur.skipped("the partner has no webhook URL (or is unknown)"), None))
            return
        outcome = await self.sender.send(webhook, n.event_id, n.body)
        updated = await self._update(
            n, lambda cur: cur.attempted(webhook.url, outcome, self.clock(), self.policy, self.rand())
        )
        if updated is not None:
            log.info(
                "webhook delivery attempt",
                extra={
                    "notification_id": str(n.notification_id),
                    "event_id": n.event_id,
                    "status": updated.status.value,
                    "http_status": outcome.http_status,
                    "attempt": updated.attempts,
                    "error": outcome.error,
                    "duration_ms": outcome.duration_ms,
                },
            )

    async def _update(self, n: Notification, change) -> Notification | None:
        """Applies `change` (-> notification, attempt or None) to the stored notification if it is still pending."""
        async with self.uow() as uow:
            current = await uow.notifications.get(n.notification_id, for_update=True)
            if current is None or current.status is not Status.PENDING:
                return None
            updated, attempt = change(current)
            if attempt is not None:
                await uow.notifications.add_attempt(attempt)
            await uow.notifications.save(updated)
        return updated
