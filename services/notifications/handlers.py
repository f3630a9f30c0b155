"""Notification use cases: (command, deps) -> result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.notifications.commands import ListNotifications
from services.notifications.domain import Attempt, Notification


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # NotificationUnitOfWork
    wake: Callable[[], None]  # wakes the delivery worker
    clock: Callable[[], datetime] = field(default=utcnow)


def _not_found(notification_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"notification {notification_id} not found",
        reason="NOTIFICATION_NOT_FOUND",
        metadata={"notification_id": str(notification_id)},
    )


async def record(
    uow, notification: Notification, wake: Callable[[], None], first_attempt: Attempt | None = None
) -> bool:
    """Inside a consumer's unit of work (its inbox row commits with it). A pending notification wakes
    the worker once committed. False: this event's notification existed already."""
    added = await uow.notifications.add(notification, first_attempt)
    if added and notification.next_attempt_at is not None:
        uow.after_commit(wake)
    return added


async def list_notifications(q: ListNotifications, deps: Deps) -> tuple[list[Notification], list | None]:
    async with deps.uow() as uow:
        rows = await uow.notifications.search(q.filters, q.position, q.limit)
    return page_of(rows, q.limit, lambda n: [n.created_at.isoformat(), str(n.notification_id)])


async def get_notification(notification_id: uuid.UUID, deps: Deps) -> tuple[Notification, list[Attempt]]:
    async with deps.uow() as uow:
        found = await uow.notifications.get(notification_id)
        attempts = await uow.notifications.attempts_of(notification_id) if found else []
    if found is None:
        raise _not_found(notification_id)
    return found, attempts


async def retry_notification(notification_id: uuid.UUID, deps: Deps) -> Notification:
    async with deps.uow() as uow:
        found = await uow.notifications.get(notification_id, for_update=True)
        if found is None:
            raise _not_found(notification_id)
        retried = found.retried(deps.clock())
        await uow.notifications.save(retried)
        uow.after_commit(deps.wake)
    return retried
