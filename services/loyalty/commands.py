"""The validated inputs of the loyalty use cases. Each write names the request it stands for
(`request`), which its transaction stores: a repeat under the same operation_id must match it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.chassis.pagination import Position
from services.loyalty.domain import Source


@dataclass(frozen=True)
class SetEarnRule:
    company_id: uuid.UUID
    source: Source
    category: str
    points_per_unit: Decimal
    expiry_days: int


@dataclass(frozen=True)
class SetRedeemRule:
    company_id: uuid.UUID
    currency: str
    point_value: Decimal


@dataclass(frozen=True)
class Earn:
    """Explicit `points`, or an `amount` turned into points by the rule of `source` and `category`."""

    operation_id: uuid.UUID
    member_id: uuid.UUID
    company_id: uuid.UUID
    points: int | None
    amount: Decimal | None
    currency: str
    source: Source | None
    category: str

    @property
    def request(self) -> str:
        source = self.source.value if self.source else ""
        amount = f"{self.amount.normalize()}:{self.currency}" if self.amount is not None else ""
        return f"earn|{self.member_id}|{self.company_id}|{self.points or ''}|{amount}|{source}|{self.category}"


@dataclass(frozen=True)
class EventEarning:
    """An earning another context's event asks for; `company_id` None: the company holding the source."""

    operation_id: uuid.UUID
    member_id: uuid.UUID
    company_id: uuid.UUID | None
    source: Source
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Redeem:
    operation_id: uuid.UUID
    member_id: uuid.UUID
    company_id: uuid.UUID
    points: int
    issuer_company_ids: frozenset[uuid.UUID]  # empty: any

    @property
    def request(self) -> str:
        issuers = ",".join(sorted(str(i) for i in self.issuer_company_ids))
        return f"redeem|{self.member_id}|{self.company_id}|{self.points}|{issuers}"


@dataclass(frozen=True)
class Reverse:
    operation_id: uuid.UUID
    transaction_operation_id: uuid.UUID

    @property
    def request(self) -> str:
        return f"reverse|{self.transaction_operation_id}"


@dataclass(frozen=True)
class GetAccount:
    member_id: uuid.UUID
    company_ids: frozenset[uuid.UUID]  # empty: every issuer


@dataclass(frozen=True)
class ListTransactions:
    member_id: uuid.UUID
    position: Position | None
    limit: int
