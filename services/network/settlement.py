"""Revenue settlement arithmetic (pure): each member's position over a period's cross-business
transactions, and the transfers that balance them. Exact Decimal sums of amounts already rounded to
the currency, so the nets add up to zero exactly and the transfers settle every net."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.network.domain import CrossBusinessTransaction

ZERO = Decimal(0)


@dataclass(frozen=True)
class Position:
    company_id: uuid.UUID
    receivable: Decimal  # value redeemed at it for points others issued
    payable: Decimal  # value of points it issued that others redeemed

    @property
    def net(self) -> Decimal:
        return self.receivable - self.payable


@dataclass(frozen=True)
class Transfer:
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class Settlement:
    settlement_id: uuid.UUID
    network_id: uuid.UUID
    period_start: date
    period_end: date  # exclusive
    currency: str
    positions: tuple[Position, ...]
    transfers: tuple[Transfer, ...]
    transaction_count: int
    created_at: datetime


def positions(transactions: Iterable[CrossBusinessTransaction], companies: Iterable[uuid.UUID] = ()) -> list[Position]:
    """One position per company in `companies` or in a transaction, ordered by company id: the
    redeemer receives each transaction's value, the issuer pays it."""
    receivable: dict[uuid.UUID, Decimal] = dict.fromkeys(companies, ZERO)
    payable: dict[uuid.UUID, Decimal] = dict.fromkeys(receivable, ZERO)
    for t in transactions:
        receivable[t.redeemer_company_id] = receivable.get(t.redeemer_company_id, ZERO) + t.value
        payable[t.issuer_company_id] = payable.get(t.issuer_company_id, ZERO) + t.value
    ids = sorted(set(receivable) | set(payable))
    return [Position(c, receivable.get(c, ZERO), payable.get(c, ZERO)) for c in ids]


def transfers(of: Iterable[Position]) -> list[Transfer]:
    """Greedy and deterministic: the largest debtor pays the largest creditor as much as both allow,
    then the next (ties by company id). Each debtor pays exactly -net, each creditor gets exactly
    net, with at most (members with a non-zero net - 1) transfers."""
    nets = [(p.net, p.company_id) for p in of if p.net]
    debtors = sorted(((-n, c) for n, c in nets if n < 0), key=lambda d: (-d[0], d[1]))
    creditors = sorted(((n, c) for n, c in nets if n > 0), key=lambda d: (-d[0], d[1]))
    if sum(d for d, _ in debtors) != sum(c for c, _ in creditors):
        raise ValueError("positions that do not balance cannot be settled")
    out: list[Transfer] = []
    i = j = 0
    owed, due = (debtors[0][0] if debtors else ZERO), (creditors[0][0] if creditors else ZERO)
    while i < len(debtors) and j < len(creditors):
        amount = min(owed, due)
        out.append(Transfer(debtors[i][1], creditors[j][1], amount))
        owed, due = owed - amount, due - amount
        if not owed:
            i += 1
            owed = debtors[i][0] if i < len(debtors) else ZERO
        if not due:
            j += 1
            due = creditors[j][0] if j < len(creditors) else ZERO
    return out
