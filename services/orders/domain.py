"""Orders: snapshots of what was bought, the total, and the status machine (pure Python).

confirmed -> completed | cancelled. A command that finds the order already where it asks to move it
answers it unchanged (the checkout saga's compensation and fulfilment retries rely on it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from clients.order_ids import order_id_for
from services.chassis.errors import FailedPrecondition, FieldViolation, InvalidArgument
from services.chassis.money import quantize

MAX_ITEMS = 50
MAX_QUANTITY = 1000
# Totals live in NUMERIC(14, 2): 50 lines x 1000 x a unit price below this stay under 10^12.
MAX_UNIT_PRICE = Decimal(10) ** 7
SKU_MAX = 64
NAME_MAX = 200
AUTHORIZATION_ID_MAX = 64
CHANGED_BY_MAX = 100
REASON_MAX = 2000


class OrderStatus(StrEnum):
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.CONFIRMED: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class OrderItem:
    """A snapshot of one line as it was bought; `line` numbers the lines from 1 in request order."""

    line: int
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    quantity: int


@dataclass(frozen=True)
class StatusChange:
    """One entry of the customer-visible history; `revision` is the order's revision it produced."""

    revision: int
    old_status: OrderStatus | None
    new_status: OrderStatus
    changed_by: str
    reason: str
    changed_at: datetime


def priced(items: tuple[OrderItem, ...]) -> tuple[Decimal, str]:
    """The order's total, rounded to its currency; every item must be priced in the same one."""
    currency = items[0].currency
    wrong = [i for i, item in enumerate(items) if item.currency != currency]
    if wrong:
        raise InvalidArgument(
            f"every item must be priced in {currency}",
            reason="CURRENCY_MISMATCH",
            metadata={"currency": currency},
            violations=[FieldViolation(f"items[{i}].unit_price.currency_code", f"must be {currency}") for i in wrong],
        )
    return quantize(sum((item.unit_price * item.quantity for item in items), Decimal(0)), currency), currency


@dataclass(frozen=True)
class Order:
    order_id: uuid.UUID
    checkout_id: uuid.UUID
    guest_id: uuid.UUID
    items: tuple[OrderItem, ...]
    total: Decimal
    currency: str
    authorization_id: str
    status: OrderStatus
    rev: int
    created_at: datetime
    updated_at: datetime
    history: tuple[StatusChange, ...]

    @classmethod
    def place(
        cls,
        checkout_id: uuid.UUID,
        guest_id: uuid.UUID,
        items: tuple[OrderItem, ...],
        authorization_id: str,
        changed_by: str,
        now: datetime,
    ) -> Order:
        total, currency = priced(items)
        first = StatusChange(1, None, OrderStatus.CONFIRMED, changed_by, "order placed", now)
        return cls(
            order_id_for(checkout_id),
            checkout_id,
            guest_id,
            items,
            total,
            currency,
            authorization_id,
            OrderStatus.CONFIRMED,
            1,
            now,
            now,
            (first,),
        )

    def same_request(self, other: Order) -> bool:
        """Whether `other` (a new request under this order's checkout) asks for this very order."""
        return (self.guest_id, self.items, self.authorization_id) == (
            other.guest_id,
            other.items,
            other.authorization_id,
        )

    def moved_to(self, to: OrderStatus, changed_by: str, reason: str, now: datetime) -> Order | None:
        """The order after the change; None when it is already `to` (nothing to do)."""
        if self.status is to:
            return None
        if to not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none"
            raise FailedPrecondition(
                f"cannot move a {self.status} order to {to} (allowed: {allowed})",
                reason="ILLEGAL_STATUS_TRANSITION",
                metadata={"from": self.status, "to": to},
            )
        change = StatusChange(self.rev + 1, self.status, to, changed_by, reason, now)
        return replace(self, status=to, rev=self.rev + 1, updated_at=now, history=(*self.history, change))

    @property
    def last_change(self) -> StatusChange:
        return self.history[-1]
