"""Wallets kept as a ledger: entries, balances, the debit split, and the answers the rules give (pure Python).

A wallet belongs to a customer of a company and holds two balances, cash and bonus, each the sum of
the wallet's ledger entries and never negative. One currency per company (the one of its first
top-up). Every entry is keyed by its operation_id, so a repeated operation writes nothing new."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, FieldViolation, InvalidArgument, key_reused

# One operation's amount stays below this (the balances' numeric(20, 2) columns hold 10^8 of them).
MAX_AMOUNT = Decimal(10) ** 10
ZERO = Decimal(0)


class Kind(StrEnum):
    TOP_UP = "top_up"
    DEBIT = "debit"
    REFUND = "refund"
    # A debit refunded before it arrived: its operation_id is spent, so the late debit is refused.
    VOIDED = "voided"


@dataclass(frozen=True)
class Wallet:
    customer_id: uuid.UUID
    company_id: uuid.UUID
    currency: str  # "" while the company has had no top-up
    cash: Decimal = ZERO
    bonus: Decimal = ZERO
    updated_at: datetime | None = None  # None: no entries yet

    @property
    def total(self) -> Decimal:
        return self.cash + self.bonus


@dataclass(frozen=True)
class Transaction:
    """One ledger entry; `cash` and `bonus` are what moved (never negative), `kind` says which way.
    The refund of an unknown debit has no customer, company or currency (nothing moved)."""

    operation_id: uuid.UUID
    kind: Kind
    customer_id: uuid.UUID | None
    company_id: uuid.UUID | None
    currency: str | None
    cash: Decimal
    bonus: Decimal
    created_at: datetime
    refunds_operation_id: uuid.UUID | None = None

    @property
    def total(self) -> Decimal:
        return self.cash + self.bonus

    def answering(self, wanted: Transaction) -> Transaction:
        """This stored entry as the answer to a request sent again under its operation_id: the same
        request (a debit compares the amount it asked for, not its split) or IDEMPOTENCY_KEY_REUSED;
        a debit refunded before it arrived is DEBIT_REFUNDED."""
        if self.kind is Kind.VOIDED and wanted.kind is Kind.DEBIT:
            raise debit_refunded(self.operation_id)
        same = (self.kind, self.customer_id, self.company_id, self.currency, self.refunds_operation_id) == (
            wanted.kind,
            wanted.customer_id,
            wanted.company_id,
            wanted.currency,
            wanted.refunds_operation_id,
        )
        if wanted.kind is Kind.DEBIT:
            same = same and self.total == wanted.total
        elif wanted.kind is Kind.TOP_UP:
            same = same and (self.cash, self.bonus) == (wanted.cash, wanted.bonus)
        if not same:
            raise key_reused("operation_id", self.operation_id)
        return self


def split(amount: Decimal, bonus_balance: Decimal) -> tuple[Decimal, Decimal]:
    """(cash, bonus) a debit of `amount` takes: bonus first, then cash."""
    bonus = min(amount, bonus_balance)
    return amount - bonus, bonus


def refund_of(debit: Transaction, operation_id: uuid.UUID, now: datetime) -> Transaction:
    """Exactly what the debit took, given back; nothing for a debit refunded before it arrived."""
    if debit.kind is Kind.VOIDED:
        return Transaction(operation_id, Kind.REFUND, None, None, None, ZERO, ZERO, now, debit.operation_id)
    return Transaction(
        operation_id,
        Kind.REFUND,
        debit.customer_id,
        debit.company_id,
        debit.currency,
        debit.cash,
        debit.bonus,
        now,
        debit.operation_id,
    )


def insufficient_funds(wallet: Wallet, amount: Decimal) -> FailedPrecondition:
    return FailedPrecondition(
        f"the wallet holds {wallet.total} {wallet.currency}, less than {amount}",
        reason="INSUFFICIENT_FUNDS",
        metadata={"available": str(wallet.total), "requested": str(amount)},
    )


def currency_mismatch(company_id: uuid.UUID, currency: str, wanted: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"company {company_id} keeps its wallets in {currency}, not {wanted}",
        reason="CURRENCY_MISMATCH",
        metadata={"company_id": str(company_id), "currency": currency},
    )


def debit_refunded(operation_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"debit {operation_id} was refunded before it arrived",
        reason="DEBIT_REFUNDED",
        metadata={"operation_id": str(operation_id)},
    )


def not_a_debit(entry: Transaction) -> InvalidArgument:
    return InvalidArgument(
        f"operation {entry.operation_id} is a {entry.kind.value}, not a debit",
        violations=[FieldViolation("debit_operation_id", f"names a {entry.kind.value}, not a debit")],
    )


def debit_refused(wallet: Wallet, currency: str, amount: Decimal) -> FailedPrecondition | None:
    """Why a debit took nothing from `wallet` as it stands now; None when it would fit now (funds
    arrived since): then it is tried again."""
    if wallet.currency and wallet.currency != currency:
        return currency_mismatch(wallet.company_id, wallet.currency, currency)
    if wallet.total < amount:
        return insufficient_funds(wallet, amount)
    return None


def refund_answer(
    operation_id: uuid.UUID,
    debit_operation_id: uuid.UUID,
    entry: Transaction | None,
    refund_of_debit: Transaction | None,
    debit: Transaction | None,
) -> Transaction | None:
    """The answer to a refund that wrote nothing: its own entry (a repeat), or the refund another
    operation made of that debit (one refund per debit). None when neither exists yet (a racing
    debit or refund): then it is tried again."""
    if entry is not None:
        if entry.kind is not Kind.REFUND or entry.refunds_operation_id != debit_operation_id:
            raise key_reused("operation_id", operation_id)
        return entry
    if refund_of_debit is not None:
        return refund_of_debit
    if debit is not None and debit.kind not in (Kind.DEBIT, Kind.VOIDED):
        raise not_a_debit(debit)
    return None
