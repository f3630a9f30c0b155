"""What the use cases read back from the ledger when a write wrote nothing (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from services.wallet.domain import Transaction, Wallet


@dataclass(frozen=True)
class Lookup:
    """A wallet as it stands (zeros without entries; its currency, else its company's, else ""),
    and the entry of an operation_id (None: unknown)."""

    wallet: Wallet
    entry: Transaction | None


@dataclass(frozen=True)
class RefundLookup:
    """What a refund (operation_id, debit_operation_id) that wrote nothing finds: the entry of its own
    operation_id, the refund already made of that debit, and the debit's entry (each None if absent)."""

    entry: Transaction | None
    refund_of_debit: Transaction | None
    debit: Transaction | None
