"""InventoryService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid

from novatrek.inventory.v1 import inventory_pb2 as pb
from novatrek.inventory.v1 import inventory_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.limits import SKU_RULE, is_sku
from services.chassis.protoconv import parse_uuid
from services.chassis.text import text
from services.inventory import handlers
from services.inventory.commands import ReserveInventory, SetStockLevel
from services.inventory.domain import MAX_HOLD_S, MAX_LINES, MAX_QUANTITY, NAME_MAX, StockLine
from services.inventory.protomap import reservation_to_pb, stock_to_pb


def _sku(value: str, field: str, v: Violations) -> str:
    v.check(is_sku(value), field, SKU_RULE)
    return value


def _checkout_id(request, v: Violations) -> uuid.UUID:
    """The request's checkout_id; when it is bad, a violation (and a nil id the refused call never uses)."""
    return parse_uuid(request.checkout_id, "checkout_id", v) or uuid.UUID(int=0)


def _lines(request: pb.ReserveInventoryRequest, v: Violations) -> tuple[StockLine, ...]:
    v.check(1 <= len(request.lines) <= MAX_LINES, "lines", f"must hold 1-{MAX_LINES} lines")
    seen: set[str] = set()
    for i, line in enumerate(request.lines):
        if _sku(line.sku, f"lines[{i}].sku", v) in seen:
            v.add(f"lines[{i}].sku", "appears on an earlier line")
        seen.add(line.sku)
        v.check(1 <= line.quantity <= MAX_QUANTITY, f"lines[{i}].quantity", f"must be 1-{MAX_QUANTITY}")
    return tuple(StockLine(line.sku, line.quantity) for line in request.lines)


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, deps: handlers.Deps) -> None:
        self.deps = deps

    async def ReserveInventory(self, request, context):
        v = Violations()
        checkout_id, lines = _checkout_id(request, v), _lines(request, v)
        v.check(0 <= request.hold_seconds <= MAX_HOLD_S, "hold_seconds", f"must be 0 (default) to {MAX_HOLD_S}")
        v.raise_if_any()
        reserved = await handlers.reserve_inventory(
            ReserveInventory(checkout_id, lines, request.hold_seconds), self.deps
        )
        return pb.ReserveInventoryResponse(reservation=reservation_to_pb(reserved))

    async def ReleaseInventory(self, request, context):
        v = Violations()
        checkout_id = _checkout_id(request, v)
        v.raise_if_any()
        released = await handlers.release_inventory(checkout_id, self.deps)
        return pb.ReleaseInventoryResponse(reservation=reservation_to_pb(released) if released else None)

    async def CommitInventory(self, request, context):
        v = Violations()
        checkout_id = _checkout_id(request, v)
        v.raise_if_any()
        return pb.CommitInventoryResponse(
            reservation=reservation_to_pb(await handlers.commit_inventory(checkout_id, self.deps))
        )

    async def GetStock(self, request, context):
        v = Violations()
        sku = _sku(request.sku, "sku", v)
        v.raise_if_any()
        return pb.GetStockResponse(stock=stock_to_pb(await handlers.get_stock(sku, self.deps)))

    async def SetStockLevel(self, request, context):
        v = Violations()
        sku, name = _sku(request.sku, "sku", v), text(request.name, "name", v, NAME_MAX, required=False)
        v.check(request.on_hand >= 0, "on_hand", "must not be negative")
        v.raise_if_any()
        stock = await handlers.set_stock_level(SetStockLevel(sku, name, request.on_hand), self.deps)
        return pb.SetStockLevelResponse(stock=stock_to_pb(stock))
