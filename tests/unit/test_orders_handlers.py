"""Order use cases against an in-memory unit of work: idempotent create, status changes and their
events, a change that loses a race, pages."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from novatrek.orders.v1 import events_pb2

from clients.order_ids import order_id_for
from services.chassis.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from services.orders import commands, handlers
from services.orders.domain import OrderStatus
from tests.helpers import FakeClock
from tests.unit.orders_fakes import FakeOrderUnitOfWork, Store
from tests.unit.test_orders_domain import items


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(store, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakeOrderUnitOfWork.factory(store), clock=clock)


def create_cmd(guest_id: uuid.UUID | None = None) -> commands.CreateOrder:
    lines = items(("TENT", "199.99", 2, "EUR"), ("STOVE", "45.00", 1, "EUR"))
    return commands.CreateOrder(uuid.uuid4(), guest_id or uuid.uuid4(), lines, "auth_1")


async def test_a_repeated_create_answers_the_stored_order_and_publishes_once(deps, store, clock):
    cmd = create_cmd()
    order = await handlers.create_order(cmd, deps)
    clock.advance(seconds=3)
    assert await handlers.create_order(cmd, deps) == order
    assert [type(e) for e in store.events] == [events_pb2.OrderCreated]
    assert store.events[0].total.units == 444 and len(store.events[0].items) == 2


async def test_another_body_under_the_same_checkout_is_refused(deps, store):
    cmd = create_cmd()
    await handlers.create_order(cmd, deps)
    with pytest.raises(InvalidArgument) as refused:
        await handlers.create_order(replace(cmd, authorization_id="auth_2"), deps)
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert len(store.orders) == len(store.events) == 1


async def test_cancel_then_cancel_again_changes_and_publishes_once(deps, store, clock):
    order = await handlers.create_order(create_cmd(), deps)
    cancel = commands.ChangeStatus(order.order_id, OrderStatus.CANCELLED, "saga", "payment voided")
    clock.advance(seconds=1)
    cancelled = await handlers.change_status(cancel, deps)
    assert (cancelled.status, cancelled.rev, cancelled.updated_at) == (OrderStatus.CANCELLED, 2, clock.now)
    assert await handlers.change_status(cancel, deps) == cancelled
    assert await handlers.get_order(order.order_id, deps) == cancelled
    assert [type(e) for e in store.events] == [events_pb2.OrderCreated, events_pb2.OrderCancelled]
    assert store.events[1].reason == "payment voided"
    with pytest.raises(FailedPrecondition):
        await handlers.change_status(commands.ChangeStatus(order.order_id, OrderStatus.COMPLETED), deps)


async def test_complete_publishes_order_completed(deps, store):
    order = await handlers.create_order(create_cmd(), deps)
    done = await handlers.change_status(commands.ChangeStatus(order.order_id, OrderStatus.COMPLETED), deps)
    assert done.status is OrderStatus.COMPLETED
    assert isinstance(store.events[-1], events_pb2.OrderCompleted)
    assert store.events[-1].authorization_id == "auth_1"


async def test_a_change_that_loses_a_race_is_decided_again_on_a_fresh_read(deps, store, clock):
    order = await handlers.create_order(create_cmd(), deps)

    def completed_meanwhile(s: Store) -> None:  # a concurrent CompleteOrder commits first
        s.orders[order.order_id] = order.moved_to(OrderStatus.COMPLETED, "fulfilment", "", clock.now)

    store.before_apply.append(completed_meanwhile)
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.change_status(commands.ChangeStatus(order.order_id, OrderStatus.CANCELLED), deps)
    assert refused.value.reason == "ILLEGAL_STATUS_TRANSITION"
    assert (await handlers.get_order(order.order_id, deps)).status is OrderStatus.COMPLETED
    assert [type(e) for e in store.events] == [events_pb2.OrderCreated]  # the loser published nothing

    store.before_apply.append(completed_meanwhile)
    again = await handlers.change_status(commands.ChangeStatus(order.order_id, OrderStatus.COMPLETED), deps)
    assert again.rev == 2 and len(again.history) == 2  # found done: answered unchanged


async def test_an_order_that_keeps_changing_is_aborted(deps, store):
    order = await handlers.create_order(create_cmd(), deps)

    def bump(s: Store) -> None:
        current = s.orders[order.order_id]
        s.orders[order.order_id] = replace(current, rev=current.rev + 1)

    store.before_apply += [bump] * 3  # before every attempt's write
    with pytest.raises(Aborted) as aborted:
        await handlers.change_status(commands.ChangeStatus(order.order_id, OrderStatus.CANCELLED), deps)
    assert aborted.value.reason == "CONCURRENT_CHANGE"
    assert not store.before_apply and len(store.events) == 1


async def test_an_unknown_order_is_not_found(deps):
    with pytest.raises(NotFound) as missing:
        await handlers.change_status(commands.ChangeStatus(uuid.uuid4(), OrderStatus.CANCELLED), deps)
    assert missing.value.reason == "ORDER_NOT_FOUND"


async def test_an_order_cancelled_before_it_was_placed_is_never_placed(deps, store):
    cmd = create_cmd()
    for _ in range(2):  # a retried compensation: the same answer
        with pytest.raises(NotFound):
            await handlers.change_status(
                commands.ChangeStatus(order_id_for(cmd.checkout_id), OrderStatus.CANCELLED), deps
            )
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.create_order(cmd, deps)
    assert refused.value.reason == "ORDER_CANCELLED" and not store.orders and not store.events


async def test_a_guests_orders_come_in_pages_newest_first(deps, clock):
    guest = uuid.uuid4()
    made = []
    for _ in range(3):
        made.append(await handlers.create_order(create_cmd(guest), deps))
        clock.advance(seconds=1)
    await handlers.create_order(create_cmd(), deps)
    first, after = await handlers.list_orders(commands.ListOrders(guest, None, 2), deps)
    rest, end = await handlers.list_orders(commands.ListOrders(guest, after, 2), deps)
    assert [*first, *rest] == made[::-1] and end is None
