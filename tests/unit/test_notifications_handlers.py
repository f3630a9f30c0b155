"""Notification use cases against in-memory fakes of the unit of work: recording an event's
notification once, listing, reading and the operator's retry. No I/O."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import FailedPrecondition, NotFound
from services.notifications import commands, handlers
from services.notifications.domain import Attempt, Kind, Notification, Status
from tests.helpers import FakeClock
from tests.unit.notification_fakes import FakeNotificationUnitOfWork, NotificationStore, Wakes

T0 = datetime(2031, 7, 1, 9, tzinfo=UTC)


@pytest.fixture
def store() -> NotificationStore:
    return NotificationStore()


@pytest.fixture
def deps(store) -> handlers.Deps:
    return handlers.Deps(uow=FakeNotificationUnitOfWork.factory(store), wake=Wakes(), clock=FakeClock(T0))


def to_partner(partner_id: uuid.UUID | None = None, event_id: str = "", at: datetime = T0) -> Notification:
    ids = (partner_id or uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    return Notification.to_partner(event_id or str(uuid.uuid4()), "booking.confirmed.v1", "{}", at, *ids)


def for_guest(event_id: str = "", at: datetime = T0) -> Notification:
    return Notification.logged_for_guest(event_id or str(uuid.uuid4()), "status_changed.v1", "{}", at, uuid.uuid4())


async def record(deps: handlers.Deps, n: Notification, first_attempt: Attempt | None = None) -> bool:
    """As a consumer records it: inside its unit of work."""
    async with deps.uow() as uow:
        return await handlers.record(uow, n, deps.wake, first_attempt)


async def test_an_events_notification_is_recorded_once_and_wakes_the_worker_after_the_commit(store, deps):
    n = to_partner(event_id="evt-1")
    assert await record(deps, n) and deps.wake.count == 1
    assert not await record(deps, to_partner(event_id="evt-1"))  # a redelivered event
    assert list(store.notifications.values()) == [n] and deps.wake.count == 1


async def test_a_notification_rolled_back_with_its_consumers_unit_wakes_nobody(store, deps):
    with pytest.raises(RuntimeError):
        async with deps.uow() as uow:
            await handlers.record(uow, to_partner(), deps.wake)
            raise RuntimeError("the consumer's handler failed after recording")
    assert store.notifications == {} and deps.wake.count == 0


async def test_a_guest_notification_is_delivered_when_recorded_with_its_attempt_and_wakes_nobody(deps):
    n = for_guest()
    assert await record(deps, n, Attempt(n.notification_id, 1, T0, 0, "", 0))
    found, attempts = await handlers.get_notification(n.notification_id, deps)
    assert found.status is Status.DELIVERED and [a.number for a in attempts] == [1] and deps.wake.count == 0


async def test_an_unknown_notification_is_not_found(deps):
    unknown = uuid.uuid4()
    for call in (handlers.get_notification(unknown, deps), handlers.retry_notification(unknown, deps)):
        with pytest.raises(NotFound) as missing:
            await call
        assert (missing.value.reason, missing.value.metadata) == (
            "NOTIFICATION_NOT_FOUND",
            {"notification_id": str(unknown)},
        )


async def test_a_failed_notification_is_retried_now_and_the_worker_woken(store, deps):
    n = replace(to_partner(), status=Status.FAILED, attempts=8, next_attempt_at=None, last_error="HTTP 500")
    await record(deps, n)
    deps.clock.advance(hours=2)
    retried = await handlers.retry_notification(n.notification_id, deps)
    assert (retried.status, retried.round_start, retried.next_attempt_at) == (
        Status.PENDING,
        8,
        T0 + timedelta(hours=2),
    )
    assert store.notifications[n.notification_id] == retried and deps.wake.count == 1


@pytest.mark.parametrize("status", [Status.PENDING, Status.DELIVERED, Status.SKIPPED])
async def test_only_a_failed_notification_can_be_retried(store, deps, status):
    n = replace(to_partner(), status=status)
    await record(deps, n)
    wakes = deps.wake.count
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.retry_notification(n.notification_id, deps)
    assert (refused.value.reason, refused.value.metadata) == ("NOTIFICATION_NOT_FAILED", {"status": status.name})
    assert store.notifications[n.notification_id] == n and deps.wake.count == wakes


async def test_notifications_are_listed_by_filter_newest_first_page_by_page(deps):
    partner = uuid.uuid4()
    mine = [to_partner(partner, at=T0 + timedelta(minutes=m)) for m in range(5)]
    for n in [*mine, to_partner(), for_guest()]:
        await record(deps, n)
    seen, position = [], None
    while True:
        query = commands.ListNotifications({"partner_id": partner, "status": None}, position, 2)
        page, position = await handlers.list_notifications(query, deps)
        seen += page
        if position is None:
            break
    assert seen == mine[::-1]
    everything = commands.ListNotifications(
        {"partner_id": None, "kind": Kind.RESERVATION_STATUS_CHANGED.value}, None, 10
    )
    assert [n.kind for n in (await handlers.list_notifications(everything, deps))[0]] == [
        Kind.RESERVATION_STATUS_CHANGED
    ]
