"""Typed async client of inventory."""

from __future__ import annotations

from novatrek.inventory.v1 import inventory_pb2 as pb
from novatrek.inventory.v1 import inventory_pb2_grpc

from clients.channel import TypedClient

SERVICE = pb.DESCRIPTOR.services_by_name["InventoryService"].full_name
# Reservations are keyed by checkout_id, release and commit are idempotent, a stock level is absolute:
# every method may be retried.
IDEMPOTENT = ["ReserveInventory", "ReleaseInventory", "CommitInventory", "GetStock", "SetStockLevel"]


class InventoryClient(TypedClient):
    dependency, service, stub_class = "inventory", SERVICE, inventory_pb2_grpc.InventoryServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def reserve(
        self, checkout_id: str, lines: list[tuple[str, int]], hold_seconds: int = 0
    ) -> pb.StockReservation:
        """All lines or none: OUT_OF_STOCK / SKU_NOT_FOUND (FailedPrecondition, metadata `sku`) otherwise."""
        request = pb.ReserveInventoryRequest(
            checkout_id=checkout_id,
            lines=[pb.StockLine(sku=sku, quantity=quantity) for sku, quantity in lines],
            hold_seconds=hold_seconds,
        )
        response: pb.ReserveInventoryResponse = await self._call(self.stub.ReserveInventory, request)
        return response.reservation

    async def release(self, checkout_id: str) -> pb.StockReservation | None:
        """None when the checkout has no reservation; a committed one comes back committed."""
        response: pb.ReleaseInventoryResponse = await self._call(
            self.stub.ReleaseInventory, pb.ReleaseInventoryRequest(checkout_id=checkout_id)
        )
        return response.reservation if response.HasField("reservation") else None

    async def commit(self, checkout_id: str) -> pb.StockReservation:
        """RESERVATION_RELEASED (FailedPrecondition) when it was released or expired first."""
        response: pb.CommitInventoryResponse = await self._call(
            self.stub.CommitInventory, pb.CommitInventoryRequest(checkout_id=checkout_id)
        )
        return response.reservation

    async def stock(self, sku: str) -> pb.Stock:
        response: pb.GetStockResponse = await self._call(self.stub.GetStock, pb.GetStockRequest(sku=sku))
        return response.stock

    async def set_stock_level(self, sku: str, on_hand: int, name: str = "") -> pb.Stock:
        request = pb.SetStockLevelRequest(sku=sku, name=name, on_hand=on_hand)
        response: pb.SetStockLevelResponse = await self._call(self.stub.SetStockLevel, request)
        return response.stock
