"""In-memory fakes of the wallet unit of work: the same answers as db.py's statements."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from services.chassis.money import quantize
from services.wallet.domain import ZERO, Kind, Transaction, Wallet, refund_of, split
from services.wallet.ports import Lookup, RefundLookup
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    currencies: dict = field(default_factory=dict)  # company_id -> currency
    wallets: dict = field(default_factory=dict)  # (customer_id, company_id) -> Wallet
    entries: dict = field(default_factory=dict)  # operation_id -> Transaction
    published: list = field(default_factory=list)  # events, once their transaction committed
    # A concurrent first top-up of the company fixes this currency between our look and our write.
    racing_currency: str | None = None


class FakeWallets:
    def __init__(self, store: Store) -> None:
        self.s = store

    def _move(self, entry: Transaction, sign: int) -> Wallet:
        key = (entry.customer_id, entry.company_id)
        w = self.s.wallets.get(key) or Wallet(entry.customer_id, entry.company_id, entry.currency or "", ZERO, ZERO)
        moved = replace(
            w, cash=w.cash + sign * entry.cash, bonus=w.bonus + sign * entry.bonus, updated_at=entry.created_at
        )
        assert moved.cash >= 0 and moved.bonus >= 0, "ck_wallets_not_negative"
        self.s.wallets[key] = moved
        return moved

    async def top_up(self, entry: Transaction) -> Wallet | None:
        if self.s.racing_currency is not None and entry.company_id not in self.s.currencies:
            self.s.currencies[entry.company_id], self.s.racing_currency = self.s.racing_currency, None
            return None  # the insert waited for the racer, then found its row: nothing written
        keeps = self.s.currencies.setdefault(entry.company_id, entry.currency) == entry.currency
        if not keeps or entry.operation_id in self.s.entries:
            return None
        self.s.entries[entry.operation_id] = entry
        return self._move(entry, +1)

    async def debit(self, wanted: Transaction) -> tuple[Transaction, Wallet] | None:
        w = self.s.wallets.get((wanted.customer_id, wanted.company_id))
        if w is None or w.currency != wanted.currency or w.total < wanted.total:
            return None
        if wanted.operation_id in self.s.entries:
            return None
        cash, bonus = split(wanted.total, w.bonus)
        entry = replace(wanted, cash=cash, bonus=bonus)
        self.s.entries[entry.operation_id] = entry
        return entry, self._move(entry, -1)

    async def refund(self, operation_id, debit_operation_id, now) -> tuple[Transaction, Wallet | None] | None:
        debit = self.s.entries.get(debit_operation_id)
        taken = operation_id in self.s.entries or any(
            e.refunds_operation_id == debit_operation_id for e in self.s.entries.values()
        )
        if debit is not None:
            if debit.kind is not Kind.DEBIT or taken:
                return None
            refund = refund_of(debit, operation_id, now)
            self.s.entries[operation_id] = refund
            return refund, self._move(refund, +1)
        if operation_id in self.s.entries:
            return None
        self.s.entries[debit_operation_id] = Transaction(
            debit_operation_id, Kind.VOIDED, None, None, None, ZERO, ZERO, now
        )
        refund = refund_of(self.s.entries[debit_operation_id], operation_id, now)
        self.s.entries[operation_id] = refund
        return refund, None

    async def lookup(self, customer_id, company_id, operation_id=None) -> Lookup:
        wallet = self.s.wallets.get((customer_id, company_id))
        if wallet is None:
            currency = self.s.currencies.get(company_id)
            zero = quantize(ZERO, currency) if currency else ZERO
            wallet = Wallet(customer_id, company_id, currency or "", zero, zero)
        return Lookup(wallet, self.s.entries.get(operation_id))

    async def refund_lookup(self, operation_id, debit_operation_id) -> RefundLookup:
        refunds = [e for e in self.s.entries.values() if e.refunds_operation_id == debit_operation_id]
        return RefundLookup(
            self.s.entries.get(operation_id),
            refunds[0] if refunds else None,
            self.s.entries.get(debit_operation_id),
        )

    async def transactions(self, customer_id, company_id, position, limit) -> list[Transaction]:
        mine = [e for e in self.s.entries.values() if (e.customer_id, e.company_id) == (customer_id, company_id)]
        return newest_first(mine, lambda e: e.created_at, lambda e: e.operation_id, position, limit)


class FakeWalletUnitOfWork(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.wallets = FakeWallets(store)

    def publish(self, event, occurred) -> None:
        if self.autocommit:
            raise RuntimeError("an autocommit unit of work has no commit to add events to")
        self.work.published.append(event)
