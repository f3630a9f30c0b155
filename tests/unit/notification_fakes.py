"""In-memory fakes of the notifications ports: its unit of work (with after-commit callbacks) and
repository, the partners' webhooks and the webhook sender."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from services.notifications.domain import Attempt, Notification, Outcome, Status, Webhook
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class NotificationStore:
    notifications: dict[uuid.UUID, Notification] = field(default_factory=dict)
    attempts: dict[tuple[uuid.UUID, int], Attempt] = field(default_factory=dict)


class FakeNotifications:
    """Behaves like services.notifications.db.NotificationRepository (unique event id, attempt keys)."""

    def __init__(self, store: NotificationStore) -> None:
        self.s = store

    async def add(self, n: Notification, first_attempt: Attempt | None = None) -> bool:
        if any(x.event_id == n.event_id for x in self.s.notifications.values()):
            return False
        self.s.notifications[n.notification_id] = n
        if first_attempt is not None:
            await self.add_attempt(first_attempt)
        return True

    async def get(self, notification_id: uuid.UUID, for_update: bool = False) -> Notification | None:
        return self.s.notifications.get(notification_id)

    async def save(self, n: Notification) -> None:
        if n.notification_id in self.s.notifications:
            self.s.notifications[n.notification_id] = n

    async def add_attempt(self, a: Attempt) -> None:
        if (a.notification_id, a.number) in self.s.attempts:
            raise IntegrityError("duplicate key delivery_attempts_pkey", None, Exception())
        self.s.attempts[(a.notification_id, a.number)] = a

    async def attempts_of(self, notification_id: uuid.UUID) -> list[Attempt]:
        return sorted(
            (a for a in self.s.attempts.values() if a.notification_id == notification_id), key=lambda a: a.number
        )

    async def search(self, filters: dict, position: list | None, limit: int) -> list[Notification]:
        found = [
            n for n in self.s.notifications.values() if all(not v or n.__dict__[k] == v for k, v in filters.items())
        ]
        return newest_first(found, lambda n: n.created_at, lambda n: n.notification_id, position, limit)

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Notification]:
        due = [n for n in self._pending() if n.next_attempt_at <= now]
        claimed = [
            replace(n, next_attempt_at=now + lease) for n in sorted(due, key=lambda n: n.next_attempt_at)[:limit]
        ]
        for n in claimed:
            self.s.notifications[n.notification_id] = n
        return claimed

    async def next_due(self) -> datetime | None:
        return min((n.next_attempt_at for n in self._pending()), default=None)

    def _pending(self) -> list[Notification]:
        return [n for n in self.s.notifications.values() if n.status is Status.PENDING and n.next_attempt_at]


class FakeNotificationUnitOfWork(FakeUnitOfWork):
    def bind(self, store: NotificationStore) -> None:
        self.notifications, self.callbacks = FakeNotifications(store), []

    def after_commit(self, callback) -> None:
        self.callbacks.append(callback)

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await super().__aexit__(exc_type, exc, tb)
        if exc_type is None:
            for callback in self.callbacks:
                callback()


class Wakes:
    """The worker's `kick`: counts how often it was woken."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


class FakeWebhooks:
    """partner-integrations' answer: a partner's webhook, None (no URL, or unknown), or it is down."""

    def __init__(self) -> None:
        self.hooks: dict[uuid.UUID, Webhook] = {}
        self.down = False

    async def webhook_of(self, partner_id: uuid.UUID) -> Webhook | None:
        if self.down:
            raise ConnectionError("partner-integrations is unavailable")
        return self.hooks.get(partner_id)


class FakeSender:
    """The receiver answers each send with the next of `answers` (HTTP statuses; 0: no answer);
    an exception among them is raised, as a bug in the sender would."""

    def __init__(self, *answers) -> None:
        self.answers, self.sent = list(answers), []

    async def send(self, webhook: Webhook, event_id: str, body: str) -> Outcome:
        self.sent.append((webhook.url, event_id, body))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return Outcome(answer, "" if 200 <= answer < 300 else f"HTTP {answer}", 12)
