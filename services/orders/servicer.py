"""OrderService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from novatrek.orders.v1 import orders_pb2 as pb
from novatrek.orders.v1 import orders_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.money import CURRENCY_MINOR_UNITS, quantize
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import money_from_proto, page_size, parse_uuid
from services.chassis.text import Kind, text
from services.orders import commands, handlers
from services.orders.domain import (
    AUTHORIZATION_ID_MAX,
    CHANGED_BY_MAX,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    NAME_MAX,
    REASON_MAX,
    SKU_MAX,
    OrderItem,
    OrderStatus,
)
from services.orders.protomap import order_to_pb

# Stands in for a refused id: `raise_if_any()` refuses the call before anything uses it.
_REFUSED_ID = uuid.UUID(int=0)


def _id(value: str, field: str, v: Violations) -> uuid.UUID:
    return parse_uuid(value, field, v) or _REFUSED_ID


def _unit_price(item: pb.OrderItem, field: str, v: Violations) -> tuple[Decimal, str]:
    """Exact: a known currency, at most its minor-unit decimals, positive, below MAX_UNIT_PRICE."""
    if not v.check(item.HasField("unit_price"), field, "is required"):
        return Decimal(0), ""
    if (money := money_from_proto(item.unit_price, field, v)) is None:
        return Decimal(0), ""
    amount, currency = money
    v.check(
        quantize(amount, currency) == amount,
        f"{field}.nanos",
        f"{currency} allows {CURRENCY_MINOR_UNITS[currency]} decimals",
    )
    v.check(amount > 0, field, "must be positive")
    v.check(amount < MAX_UNIT_PRICE, field, f"must be below {MAX_UNIT_PRICE:f}")
    return amount, currency


def _items(items, v: Violations) -> tuple[OrderItem, ...]:
    """1-MAX_ITEMS lines with distinct SKUs, numbered from 1 in request order."""
    v.check(1 <= len(items) <= MAX_ITEMS, "items", f"must hold 1 to {MAX_ITEMS} items")
    first_of: dict[str, int] = {}
    lines = []
    for i, item in enumerate(items):
        at = f"items[{i}]"
        sku = text(item.sku, f"{at}.sku", v, SKU_MAX)
        if sku and v.check(sku not in first_of, f"{at}.sku", f"repeats items[{first_of.get(sku)}].sku"):
            first_of[sku] = i
        name = text(item.name, f"{at}.name", v, NAME_MAX)
        v.check(1 <= item.quantity <= MAX_QUANTITY, f"{at}.quantity", f"must be between 1 and {MAX_QUANTITY}")
        price, currency = _unit_price(item, f"{at}.unit_price", v)
        lines.append(OrderItem(i + 1, sku, name, price, currency, item.quantity))
    return tuple(lines)


def _change(request, to: OrderStatus, v: Violations, reason: str = "") -> commands.ChangeStatus:
    return commands.ChangeStatus(
        order_id=_id(request.order_id, "order_id", v),
        to=to,
        changed_by=text(request.changed_by, "changed_by", v, CHANGED_BY_MAX, required=False) or "system",
        reason=reason,
    )


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def CreateOrder(self, request, context):
        v = Violations()
        cmd = commands.CreateOrder(
            checkout_id=_id(request.checkout_id, "checkout_id", v),
            guest_id=_id(request.guest_id, "guest_id", v),
            items=_items(request.items, v),
            authorization_id=text(request.authorization_id, "authorization_id", v, AUTHORIZATION_ID_MAX),
        )
        v.raise_if_any()
        return pb.CreateOrderResponse(order=order_to_pb(await handlers.create_order(cmd, self.deps)))

    async def GetOrder(self, request, context):
        v = Violations()
        order_id = _id(request.order_id, "order_id", v)
        v.raise_if_any()
        return pb.GetOrderResponse(order=order_to_pb(await handlers.get_order(order_id, self.deps)))

    async def CancelOrder(self, request, context):
        v = Violations()
        cmd = _change(
            request, OrderStatus.CANCELLED, v, text(request.reason, "reason", v, REASON_MAX, False, Kind.TEXT)
        )
        v.raise_if_any()
        return pb.CancelOrderResponse(order=order_to_pb(await handlers.change_status(cmd, self.deps)))

    async def CompleteOrder(self, request, context):
        v = Violations()
        cmd = _change(request, OrderStatus.COMPLETED, v)
        v.raise_if_any()
        return pb.CompleteOrderResponse(order=order_to_pb(await handlers.change_status(cmd, self.deps)))

    async def ListOrders(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        filters = {"guest_id": _id(request.guest_id, "guest_id", v)}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, after = await handlers.list_orders(commands.ListOrders(filters["guest_id"], position, limit), self.deps)
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListOrdersResponse(orders=[order_to_pb(o) for o in found], next_page_token=token)
