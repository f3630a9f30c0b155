"""The validated inputs of the inventory use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.inventory.domain import StockLine


@dataclass(frozen=True)
class ReserveInventory:
    checkout_id: uuid.UUID
    lines: tuple[StockLine, ...]  # distinct SKUs
    hold_seconds: int  # 0: the service's default


@dataclass(frozen=True)
class SetStockLevel:
    sku: str
    name: str  # "" keeps a known SKU's name
    on_hand: int
