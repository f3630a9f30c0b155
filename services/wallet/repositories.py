"""The ledger's repository and the unit of work over db.py's statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from services.chassis.db import UnitOfWork, page_params
from services.chassis.money import quantize
from services.chassis.pagination import Position
from services.wallet.db import DEBIT, LOOKUP, PAGE, PAGE_AFTER, REFUND, REFUND_LOOKUP, TOP_UP
from services.wallet.domain import ZERO, Kind, Transaction, Wallet
from services.wallet.ports import Lookup, RefundLookup


def _entry(m, prefix: str = "") -> Transaction | None:
    """An entry from a row (its columns named `<prefix><column>`), amounts as moved (positive)."""
    if m[f"{prefix}operation_id"] is None:
        return None
    currency, sign = m[f"{prefix}currency"], -1 if m[f"{prefix}kind"] == Kind.DEBIT.value else 1

    def amount(column: str) -> Decimal:
        value = sign * m[f"{prefix}{column}"]
        return quantize(value, currency) if currency else value

    return Transaction(
        m[f"{prefix}operation_id"],
        Kind(m[f"{prefix}kind"]),
        m[f"{prefix}customer_id"],
        m[f"{prefix}company_id"],
        currency,
        amount("cash"),
        amount("bonus"),
        m[f"{prefix}created_at"],
        m[f"{prefix}refunds_operation_id"],
    )


def _wallet(m, prefix: str = "w_") -> Wallet | None:
    if m[f"{prefix}customer_id"] is None:
        return None
    currency = m[f"{prefix}currency"]
    return Wallet(
        m[f"{prefix}customer_id"],
        m[f"{prefix}company_id"],
        currency,
        quantize(m[f"{prefix}cash"], currency),
        quantize(m[f"{prefix}bonus"], currency),
        m[f"{prefix}updated_at"],
    )


def _no_wallet(customer_id: uuid.UUID, company_id: uuid.UUID, currency: str | None) -> Wallet:
    """Zeros, in the company's currency when it has one."""
    if currency is None:
        return Wallet(customer_id, company_id, "")
    zero = quantize(ZERO, currency)
    return Wallet(customer_id, company_id, currency, zero, zero)


class WalletRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def top_up(self, entry: Transaction) -> Wallet | None:
        """Writes the top-up's entry and moves its wallet; the wallet after it, or None when nothing
        was written (the operation_id is known, the company keeps another currency, or a concurrent
        first top-up of the company is fixing its currency)."""
        params = {
            "t_operation": entry.operation_id,
            "t_customer": entry.customer_id,
            "t_company": entry.company_id,
            "t_currency": entry.currency,
            "t_cash": entry.cash,
            "t_bonus": entry.bonus,
            "t_now": entry.created_at,
        }
        row = (await self.conn.execute(TOP_UP, params)).first()
        return _wallet(row._mapping, "") if row else None

    async def debit(self, wanted: Transaction) -> tuple[Transaction, Wallet] | None:
        """Debits `wanted.total` (bonus first); the entry and the wallet after it, or None when nothing
        was written (the operation_id is known, no wallet, another currency, not enough funds)."""
        params = {
            "d_operation": wanted.operation_id,
            "d_customer": wanted.customer_id,
            "d_company": wanted.company_id,
            "d_currency": wanted.currency,
            "d_amount": wanted.total,
            "d_now": wanted.created_at,
        }
        row = (await self.conn.execute(DEBIT, params)).first()
        return _written(row)

    async def refund(
        self, operation_id: uuid.UUID, debit_operation_id: uuid.UUID, now: datetime
    ) -> tuple[Transaction, Wallet | None] | None:
        """Refunds a debit, or voids an unknown one; the refund's entry and the wallet after it (None
        when nothing moved), or None when nothing was written."""
        params = {"r_operation": operation_id, "r_debit": debit_operation_id, "r_now": now}
        row = (await self.conn.execute(REFUND, params)).first()
        if row is None:
            return None
        entry = _entry(row._mapping, "e_")
        assert entry is not None
        return entry, _wallet(row._mapping)

    async def lookup(
        self, customer_id: uuid.UUID, company_id: uuid.UUID, operation_id: uuid.UUID | None = None
    ) -> Lookup:
        params = {"l_customer": customer_id, "l_company": company_id, "l_operation": operation_id}
        m = (await self.conn.execute(LOOKUP, params)).one()._mapping
        wallet = _wallet(m) or _no_wallet(customer_id, company_id, m["company_currency"])
        return Lookup(wallet, _entry(m, "e_"))

    async def refund_lookup(self, operation_id: uuid.UUID, debit_operation_id: uuid.UUID) -> RefundLookup:
        rows = await self.conn.execute(REFUND_LOOKUP, {"q_operation": operation_id, "q_debit": debit_operation_id})
        found = [e for row in rows if (e := _entry(row._mapping)) is not None]

        def first(test) -> Transaction | None:
            return next((e for e in found if test(e)), None)

        return RefundLookup(
            first(lambda e: e.operation_id == operation_id),
            first(lambda e: e.refunds_operation_id == debit_operation_id),
            first(lambda e: e.operation_id == debit_operation_id),
        )

    async def transactions(
        self, customer_id: uuid.UUID, company_id: uuid.UUID, position: Position | None, limit: int
    ) -> list[Transaction]:
        statement = PAGE if position is None else PAGE_AFTER
        params = {"page_customer": customer_id, "page_company": company_id, **page_params(position, limit)}
        return [e for row in await self.conn.execute(statement, params) if (e := _entry(row._mapping))]


def _written(row) -> tuple[Transaction, Wallet] | None:
    if row is None:
        return None
    entry, wallet = _entry(row._mapping, "e_"), _wallet(row._mapping)
    assert entry is not None and wallet is not None
    return entry, wallet


class WalletUnitOfWork(UnitOfWork):
    wallets: WalletRepository

    def bind(self, conn) -> None:
        self.wallets = WalletRepository(conn)
