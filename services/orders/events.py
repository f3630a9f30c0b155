"""Outbox payloads this context publishes."""

from __future__ import annotations

from google.protobuf.message import Message
from novatrek.orders.v1 import events_pb2

from services.chassis.protoconv import timestamp
from services.orders.domain import Order, OrderStatus
from services.orders.protomap import order_fields


def created(o: Order) -> events_pb2.OrderCreated:
    return events_pb2.OrderCreated(**order_fields(o), occur_time=timestamp(o.created_at))


def status_changed(o: Order) -> Message:
    """OrderCompleted or OrderCancelled: the event of the order's last change."""
    common = {k: v for k, v in order_fields(o).items() if k != "items"} | {"occur_time": timestamp(o.updated_at)}
    if o.status is OrderStatus.COMPLETED:
        return events_pb2.OrderCompleted(**common)
    if o.status is OrderStatus.CANCELLED:
        return events_pb2.OrderCancelled(**common, reason=o.last_change.reason)
    raise ValueError(f"no event announces a move to {o.status}")
