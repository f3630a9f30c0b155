"""Order domain objects -> protobuf messages (used by the servicer and the events)."""

from __future__ import annotations

from typing import Any

from novatrek.orders.v1 import orders_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.orders.domain import Order, OrderItem, OrderStatus, StatusChange

STATUS_TO_PB = {s: pb.OrderStatus.Value(f"ORDER_STATUS_{s.name}") for s in OrderStatus}


def item_to_pb(item: OrderItem) -> pb.OrderItem:
    return pb.OrderItem(
        sku=item.sku,
        name=item.name,
        unit_price=money_to_proto(item.unit_price, item.currency),
        quantity=item.quantity,
    )


def change_to_pb(change: StatusChange) -> pb.OrderStatusChange:
    return pb.OrderStatusChange(
        old_status=STATUS_TO_PB[change.old_status] if change.old_status else pb.ORDER_STATUS_UNSPECIFIED,
        new_status=STATUS_TO_PB[change.new_status],
        changed_by=change.changed_by,
        reason=change.reason,
        change_time=timestamp(change.changed_at),
    )


def order_fields(o: Order) -> dict[str, Any]:
    """The fields the Order message and the order events share (the events take a subset)."""
    return {
        "order_id": str(o.order_id),
        "checkout_id": str(o.checkout_id),
        "guest_id": str(o.guest_id),
        "items": [item_to_pb(item) for item in o.items],
        "total": money_to_proto(o.total, o.currency),
        "authorization_id": o.authorization_id,
    }


def order_to_pb(o: Order) -> pb.Order:
    return pb.Order(
        **order_fields(o),
        status=STATUS_TO_PB[o.status],
        history=[change_to_pb(change) for change in o.history],
        create_time=timestamp(o.created_at),
        update_time=timestamp(o.updated_at),
    )
