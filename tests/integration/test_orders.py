"""OrderService through the real server, stubs, PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal

import grpc
import nats
import pytest
from google.type import money_pb2
from novatrek.orders.v1 import events_pb2
from novatrek.orders.v1 import orders_pb2 as pb

from clients.order_ids import order_id_for
from clients.orders import OrderLine, OrdersClient
from services.chassis.errors import FailedPrecondition, InvalidArgument
from tests.helpers import eventually, fails

EVENTS = {
    "novatrek.ordering.order.created": events_pb2.OrderCreated,
    "novatrek.ordering.order.completed": events_pb2.OrderCompleted,
    "novatrek.ordering.order.cancelled": events_pb2.OrderCancelled,
}


def money(units: int, nanos: int = 0, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def item(sku: str = "TENT-2P", quantity: int = 1, price: money_pb2.Money | None = None, name: str = "") -> pb.OrderItem:
    return pb.OrderItem(
        sku=sku, name=name or f"{sku} item", unit_price=price or money(10, 500_000_000), quantity=quantity
    )


def create_request(guest_id: str | None = None, items: list[pb.OrderItem] | None = None) -> pb.CreateOrderRequest:
    return pb.CreateOrderRequest(
        checkout_id=str(uuid.uuid4()),
        guest_id=guest_id or str(uuid.uuid4()),
        items=items or [item("TENT-2P", 2, money(199, 990_000_000)), item("STOVE", 1, money(45))],
        authorization_id=f"auth_{uuid.uuid4().hex[:12]}",
    )


class EventLog:
    """Every order event NATS delivers (core subscription), decoded, with its headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object, dict]] = []

    async def on_message(self, msg) -> None:
        self.seen.append((msg.subject, EVENTS[msg.subject].FromString(msg.data), dict(msg.headers or {})))

    def of(self, order_id: str) -> list[tuple[str, object, dict]]:
        return [seen for seen in self.seen if seen[1].order_id == order_id]


@pytest.fixture
async def order_events(nats_url):
    nc = await nats.connect(nats_url)
    log = EventLog()
    await nc.subscribe("novatrek.ordering.order.>", cb=log.on_message)
    yield log
    await nc.close()


async def test_an_order_is_created_with_its_total_items_and_first_status(orders_stub):
    request = create_request()
    order = (await orders_stub.CreateOrder(request)).order
    assert order.order_id == str(uuid.uuid5(uuid.UUID("0b6f3c1e-8e4a-4d2b-9a57-3f1d2c7e5a90"), request.checkout_id))
    assert (order.checkout_id, order.guest_id, order.authorization_id) == (
        request.checkout_id,
        request.guest_id,
        request.authorization_id,
    )
    assert list(order.items) == list(request.items)
    assert order.total == money(444, 980_000_000)  # 2 x 199.99 + 45
    assert order.status == pb.ORDER_STATUS_CONFIRMED
    assert [(h.old_status, h.new_status, h.changed_by) for h in order.history] == [
        (pb.ORDER_STATUS_UNSPECIFIED, pb.ORDER_STATUS_CONFIRMED, "checkout")
    ]
    assert (await orders_stub.GetOrder(pb.GetOrderRequest(order_id=order.order_id))).order == order


async def test_a_yen_order_totals_in_whole_yen(orders_stub):
    request = create_request(items=[item("MAP", 3, money(1200, currency="JPY"))])
    order = (await orders_stub.CreateOrder(request)).order
    assert order.total == money(3600, currency="JPY")
    assert (await orders_stub.GetOrder(pb.GetOrderRequest(order_id=order.order_id))).order == order


async def test_concurrent_creates_of_one_checkout_make_one_order_and_the_same_answer(orders_stub, order_events):
    request = create_request()
    answers = await asyncio.gather(*(orders_stub.CreateOrder(request) for _ in range(20)))
    assert all(answer == answers[0] for answer in answers)
    marker = (await orders_stub.CreateOrder(create_request())).order
    await eventually(lambda: order_events.of(marker.order_id))  # the relay publishes in order
    created = order_events.of(answers[0].order.order_id)
    assert [subject for subject, _, _ in created] == ["novatrek.ordering.order.created"]
    guest_orders = await orders_stub.ListOrders(pb.ListOrdersRequest(guest_id=request.guest_id))
    assert [o.order_id for o in guest_orders.orders] == [answers[0].order.order_id]


async def test_another_body_under_a_used_checkout_id_is_refused(orders_stub):
    request = create_request()
    await orders_stub.CreateOrder(request)
    other = pb.CreateOrderRequest()
    other.CopyFrom(request)
    other.items[0].quantity += 1
    failure = await fails(orders_stub.CreateOrder(other))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")


async def test_bad_items_are_refused_field_by_field(orders_stub):
    request = create_request(
        items=[
            item("A", 0),
            item("A", 1001, money(1, 5_000_000)),
            pb.OrderItem(sku="B", name="line\nbreak", quantity=1),
            item("C", 1, money(-3)),
        ]
    )
    failure = await fails(orders_stub.CreateOrder(request))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {
        "items[0].quantity",
        "items[1].sku",
        "items[1].quantity",
        "items[1].unit_price.nanos",
        "items[2].name",
        "items[2].unit_price",
        "items[3].unit_price",
    }
    empty = await fails(orders_stub.CreateOrder(pb.CreateOrderRequest()))
    assert {"checkout_id", "guest_id", "items", "authorization_id"} <= set(empty.violations)


async def test_items_in_two_currencies_are_refused(orders_stub):
    request = create_request(items=[item("A"), item("B", price=money(5, currency="USD"))])
    failure = await fails(orders_stub.CreateOrder(request))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "CURRENCY_MISMATCH")
    assert set(failure.violations) == {"items[1].unit_price.currency_code"}


async def test_cancel_is_recorded_published_once_and_idempotent(orders_stub, order_events):
    order = (await orders_stub.CreateOrder(create_request())).order
    cancel = pb.CancelOrderRequest(order_id=order.order_id, reason="payment voided", changed_by="checkout-saga")
    cancelled = (await orders_stub.CancelOrder(cancel)).order
    assert cancelled.status == pb.ORDER_STATUS_CANCELLED
    last = cancelled.history[-1]
    assert (last.old_status, last.new_status, last.changed_by, last.reason) == (
        pb.ORDER_STATUS_CONFIRMED,
        pb.ORDER_STATUS_CANCELLED,
        "checkout-saga",
        "payment voided",
    )
    assert (await orders_stub.CancelOrder(cancel)).order == cancelled  # a retried compensation
    assert (await orders_stub.GetOrder(pb.GetOrderRequest(order_id=order.order_id))).order == cancelled
    failure = await fails(orders_stub.CompleteOrder(pb.CompleteOrderRequest(order_id=order.order_id)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_STATUS_TRANSITION")

    marker = (await orders_stub.CreateOrder(create_request())).order
    await eventually(lambda: order_events.of(marker.order_id))
    seen = order_events.of(order.order_id)
    assert Counter(subject for subject, _, _ in seen) == {
        "novatrek.ordering.order.created": 1,
        "novatrek.ordering.order.cancelled": 1,
    }
    _, event, headers = seen[-1]
    assert (event.checkout_id, event.guest_id, event.total, event.authorization_id, event.reason) == (
        order.checkout_id,
        order.guest_id,
        order.total,
        order.authorization_id,
        "payment voided",
    )
    assert event.occur_time == cancelled.update_time
    assert headers["ce-type"] == "novatrek.ordering.order.cancelled.v1"
    assert headers["ce-source"] == "//novatrek.io/orders"
    assert headers["ce-specversion"] == "1.0" and headers["content-type"] == "application/protobuf"
    assert headers["Nats-Msg-Id"] == headers["ce-id"]


async def test_complete_is_published_once_and_idempotent(orders_stub, order_events):
    order = (await orders_stub.CreateOrder(create_request())).order
    complete = pb.CompleteOrderRequest(order_id=order.order_id, changed_by="fulfilment")
    completed = (await orders_stub.CompleteOrder(complete)).order
    assert completed.status == pb.ORDER_STATUS_COMPLETED and len(completed.history) == 2
    assert (await orders_stub.CompleteOrder(complete)).order == completed
    failure = await fails(orders_stub.CancelOrder(pb.CancelOrderRequest(order_id=order.order_id)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_STATUS_TRANSITION")

    marker = (await orders_stub.CreateOrder(create_request())).order
    await eventually(lambda: order_events.of(marker.order_id))
    seen = order_events.of(order.order_id)
    assert [subject for subject, _, _ in seen] == [
        "novatrek.ordering.order.created",
        "novatrek.ordering.order.completed",
    ]
    created, completed_event = seen[0][1], seen[1][1]
    assert list(created.items) == list(order.items) and created.total == order.total
    assert created.occur_time == order.create_time
    assert (completed_event.total, completed_event.authorization_id) == (order.total, order.authorization_id)
    assert seen[1][2]["ce-type"] == "novatrek.ordering.order.completed.v1"


async def test_racing_cancel_and_complete_make_one_change(orders_stub):
    order = (await orders_stub.CreateOrder(create_request())).order
    outcomes = await asyncio.gather(
        orders_stub.CancelOrder(pb.CancelOrderRequest(order_id=order.order_id)),
        orders_stub.CompleteOrder(pb.CompleteOrderRequest(order_id=order.order_id)),
        return_exceptions=True,
    )
    won = [o.order for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].code() == grpc.StatusCode.FAILED_PRECONDITION
    stored = (await orders_stub.GetOrder(pb.GetOrderRequest(order_id=order.order_id))).order
    assert stored == won[0] and len(stored.history) == 2


async def test_an_unknown_order_is_not_found(orders_stub):
    for call in (
        orders_stub.GetOrder(pb.GetOrderRequest(order_id=str(uuid.uuid4()))),
        orders_stub.CancelOrder(pb.CancelOrderRequest(order_id=str(uuid.uuid4()))),
    ):
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND")


def cancel_of(request: pb.CreateOrderRequest) -> pb.CancelOrderRequest:
    order_id = str(order_id_for(uuid.UUID(request.checkout_id)))
    return pb.CancelOrderRequest(order_id=order_id, reason="checkout failed", changed_by="checkout")


async def test_a_create_overtaken_by_its_cancel_places_no_order(orders_stub, order_events):
    """The saga's CreateOrder still on its way when its compensation's CancelOrder found nothing to
    undo: the cancel left a tombstone, so the late create is refused and nothing is published."""
    request = create_request()
    for _ in range(2):  # a retried compensation: the same answer
        failure = await fails(orders_stub.CancelOrder(cancel_of(request)))
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND")
    for _ in range(2):
        failure = await fails(orders_stub.CreateOrder(request))
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ORDER_CANCELLED")
    order_id = cancel_of(request).order_id
    for call in (
        orders_stub.GetOrder(pb.GetOrderRequest(order_id=order_id)),
        orders_stub.CompleteOrder(pb.CompleteOrderRequest(order_id=order_id)),
    ):
        assert (await fails(call)).code == grpc.StatusCode.NOT_FOUND
    listed = await orders_stub.ListOrders(pb.ListOrdersRequest(guest_id=request.guest_id))
    assert not listed.orders and not order_events.of(order_id)


async def test_a_cancel_racing_its_create_never_leaves_a_confirmed_order(orders_stub):
    """Whichever wins, a cancel answered NOT_FOUND (nothing to undo) means no order is ever placed."""
    requests = [create_request() for _ in range(30)]
    for request in requests:
        created, cancelled = await asyncio.gather(
            orders_stub.CreateOrder(request), orders_stub.CancelOrder(cancel_of(request)), return_exceptions=True
        )
        get = orders_stub.GetOrder(pb.GetOrderRequest(order_id=cancel_of(request).order_id))
        if isinstance(cancelled, grpc.aio.AioRpcError):  # the cancel came first: the create is refused
            assert cancelled.code() == grpc.StatusCode.NOT_FOUND and isinstance(created, grpc.aio.AioRpcError)
            assert created.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert (await fails(get)).code == grpc.StatusCode.NOT_FOUND
        else:
            assert (await get).order.status == pb.ORDER_STATUS_CANCELLED


async def test_a_guests_orders_come_newest_first_in_signed_pages(orders_stub):
    guest_id = str(uuid.uuid4())
    made = [(await orders_stub.CreateOrder(create_request(guest_id))).order for _ in range(5)]
    await orders_stub.CreateOrder(create_request())  # another guest's
    pages, token = [], ""
    while True:
        page = await orders_stub.ListOrders(pb.ListOrdersRequest(guest_id=guest_id, page_size=2, page_token=token))
        pages.append([o.order_id for o in page.orders])
        if not (token := page.next_page_token):
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [order_id for p in pages for order_id in p] == [o.order_id for o in reversed(made)]
    first = await orders_stub.ListOrders(pb.ListOrdersRequest(guest_id=guest_id, page_size=2))
    assert list(first.orders) == list(reversed(made))[:2]  # with items and history
    failure = await fails(
        orders_stub.ListOrders(pb.ListOrdersRequest(guest_id=str(uuid.uuid4()), page_token=first.next_page_token))
    )
    assert set(failure.violations) == {"page_token"}


async def test_the_typed_client_places_cancels_and_passes_errors_on(orders_service):
    client = OrdersClient(orders_service.address, timeout_s=5.0)
    try:
        checkout_id, guest_id = str(uuid.uuid4()), str(uuid.uuid4())
        lines = [OrderLine("KAYAK-RENT", "Kayak rental kit", Decimal("35.50"), "NOK", 2)]
        order = await client.create_order(checkout_id, guest_id, lines, "auth_client")
        assert order.total == money(71, 0, "NOK") and order == await client.create_order(
            checkout_id, guest_id, lines, "auth_client"
        )
        cancelled = await client.cancel_order(order.order_id, "stock ran out", "checkout")
        assert cancelled == await client.cancel_order(order.order_id, "stock ran out", "checkout")
        assert (await client.get_order(order.order_id)) == cancelled
        assert [o.order_id for o in (await client.orders_of(guest_id)).orders] == [order.order_id]
        with pytest.raises(InvalidArgument) as reused:
            await client.create_order(checkout_id, guest_id, lines, "auth_other")
        assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
        with pytest.raises(FailedPrecondition):
            await client.complete_order(order.order_id)
    finally:
        await client.close()
