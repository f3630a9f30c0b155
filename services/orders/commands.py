"""Validated inputs of the order use cases (built by the servicer from protobuf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.orders.domain import OrderItem, OrderStatus


@dataclass(frozen=True)
class CreateOrder:
    checkout_id: uuid.UUID
    guest_id: uuid.UUID
    items: tuple[OrderItem, ...]
    authorization_id: str


@dataclass(frozen=True)
class ChangeStatus:
    """CancelOrder / CompleteOrder: idempotent, an order already at `to` is answered unchanged."""

    order_id: uuid.UUID
    to: OrderStatus
    changed_by: str = "system"
    reason: str = ""


@dataclass(frozen=True)
class ListOrders:
    guest_id: uuid.UUID
    position: list | None
    limit: int
