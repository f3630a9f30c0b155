"""The validated inputs of the pass use cases. ConsumeEntitlement's (`SessionUse`) lives in the domain,
which decides with it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.passes.domain import SessionUse

ConsumeEntitlement = SessionUse


@dataclass(frozen=True)
class CreatePassProduct:
    request_id: uuid.UUID
    company_id: uuid.UUID
    name: str
    sessions: int
    validity_days: int
    activity_ids: tuple[uuid.UUID, ...]  # distinct, sorted
    price: Decimal
    currency: str


@dataclass(frozen=True)
class IssueEntitlement:
    request_id: uuid.UUID
    product_id: uuid.UUID
    customer_id: uuid.UUID


@dataclass(frozen=True)
class RestoreEntitlement:
    entitlement_id: uuid.UUID
    booking_id: uuid.UUID


@dataclass(frozen=True)
class ListEntitlements:
    customer_id: uuid.UUID
    company_id: uuid.UUID | None
    position: list[Any] | None
    limit: int
