"""The validated inputs of the wallet use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.chassis.pagination import Position


@dataclass(frozen=True)
class TopUp:
    operation_id: uuid.UUID
    customer_id: uuid.UUID
    company_id: uuid.UUID
    currency: str
    cash: Decimal
    bonus: Decimal


@dataclass(frozen=True)
class Debit:
    operation_id: uuid.UUID
    customer_id: uuid.UUID
    company_id: uuid.UUID
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class Refund:
    operation_id: uuid.UUID
    debit_operation_id: uuid.UUID


@dataclass(frozen=True)
class ListTransactions:
    customer_id: uuid.UUID
    company_id: uuid.UUID
    position: Position | None
    limit: int
