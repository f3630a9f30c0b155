"""Inventory domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.inventory.v1 import inventory_pb2 as pb

from services.chassis.protoconv import timestamp
from services.inventory.domain import Status, Stock, StockReservation

STATUS_TO_PB = {s: pb.StockReservationStatus.Value(f"STOCK_RESERVATION_STATUS_{s.name}") for s in Status}


def stock_to_pb(s: Stock) -> pb.Stock:
    return pb.Stock(sku=s.sku, name=s.name, on_hand=s.on_hand, reserved=s.reserved, available=s.available)


def reservation_to_pb(r: StockReservation) -> pb.StockReservation:
    return pb.StockReservation(
        checkout_id=str(r.checkout_id),
        lines=[pb.StockLine(sku=line.sku, quantity=line.quantity) for line in r.lines],
        status=STATUS_TO_PB[r.status],
        expire_time=timestamp(r.expire_time),
        create_time=timestamp(r.created_at),
    )
