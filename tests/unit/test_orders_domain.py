"""The order aggregate: totals, the status machine, what makes a request the same."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.orders.domain import Order, OrderItem, OrderStatus, order_id_for

NOW = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


def items(*specs: tuple[str, str, int, str]) -> tuple[OrderItem, ...]:
    return tuple(
        OrderItem(i + 1, sku, f"{sku} name", Decimal(price), currency, quantity)
        for i, (sku, price, quantity, currency) in enumerate(specs)
    )


def placed(*specs: tuple[str, str, int, str]) -> Order:
    lines = items(*specs) or items(("TENT", "199.99", 2, "EUR"), ("STOVE", "45.00", 1, "EUR"))
    return Order.place(uuid.uuid4(), uuid.uuid4(), lines, "auth_1", "checkout", NOW)


def test_an_order_is_placed_confirmed_with_its_total_and_first_history_entry():
    order = placed()
    assert (order.status, order.rev, order.total, order.currency) == (
        OrderStatus.CONFIRMED,
        1,
        Decimal("444.98"),
        "EUR",
    )
    assert order.order_id == order_id_for(order.checkout_id)
    first = order.history[0]
    assert (first.revision, first.old_status, first.new_status, first.changed_by) == (
        1,
        None,
        OrderStatus.CONFIRMED,
        "checkout",
    )


def test_totals_are_rounded_to_the_currency():
    assert placed(("MAP", "1200", 3, "JPY")).total == Decimal("3600")
    assert str(placed(("A", "0.10", 3, "USD")).total) == "0.30"


def test_items_in_two_currencies_are_refused_naming_the_odd_ones():
    with pytest.raises(InvalidArgument) as refused:
        placed(("A", "1", 1, "EUR"), ("B", "1", 1, "USD"), ("C", "1", 1, "EUR"), ("D", "1", 1, "GBP"))
    assert refused.value.reason == "CURRENCY_MISMATCH"
    assert [v.field for v in refused.value.violations] == [
        "items[1].unit_price.currency_code",
        "items[3].unit_price.currency_code",
    ]


@pytest.mark.parametrize("to", [OrderStatus.COMPLETED, OrderStatus.CANCELLED])
def test_a_confirmed_order_moves_once_with_history(to):
    order = placed()
    later = NOW + timedelta(minutes=5)
    moved = order.moved_to(to, "ops", "why", later)
    assert moved is not None
    assert (moved.status, moved.rev, moved.updated_at, moved.created_at) == (to, 2, later, NOW)
    change = moved.last_change
    assert (change.revision, change.old_status, change.new_status, change.changed_by, change.reason) == (
        2,
        OrderStatus.CONFIRMED,
        to,
        "ops",
        "why",
    )
    assert moved.moved_to(to, "ops", "again", later) is None  # already there: nothing to do


@pytest.mark.parametrize(
    ("at", "to"),
    [
        (OrderStatus.COMPLETED, OrderStatus.CANCELLED),
        (OrderStatus.CANCELLED, OrderStatus.COMPLETED),
        (OrderStatus.COMPLETED, OrderStatus.CONFIRMED),
        (OrderStatus.CANCELLED, OrderStatus.CONFIRMED),
    ],
)
def test_final_orders_refuse_other_moves(at, to):
    order = placed().moved_to(at, "ops", "", NOW)
    assert order is not None
    with pytest.raises(FailedPrecondition) as refused:
        order.moved_to(to, "ops", "", NOW)
    assert refused.value.reason == "ILLEGAL_STATUS_TRANSITION"
    assert refused.value.metadata == {"from": at, "to": to}


def test_a_request_is_the_same_when_guest_items_and_authorization_match():
    order = placed()
    again = Order.place(order.checkout_id, order.guest_id, order.items, "auth_1", "checkout", NOW + timedelta(1))
    assert order.same_request(again)
    assert order.same_request(replace(again, items=tuple(replace(i, unit_price=i.unit_price + 0) for i in again.items)))
    assert not order.same_request(replace(again, authorization_id="auth_2"))
    assert not order.same_request(replace(again, guest_id=uuid.uuid4()))
    assert not order.same_request(replace(again, items=again.items[::-1]))
    assert not order.same_request(replace(again, items=(replace(again.items[0], quantity=3), again.items[1])))
