"""What the use cases read back from the ledger before they write (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from services.loyalty.domain import RedeemRule, Transaction


@dataclass(frozen=True)
class RedeemLookup:
    """The transaction of a redemption's operation_id (None: new) and the redeeming company's rule."""

    entry: Transaction | None
    rule: RedeemRule | None


@dataclass(frozen=True)
class ReversalLookup:
    """What a reversal (operation_id, target) finds: the transaction of its own operation_id, the
    target transaction, and the reversal already made of the target (each None if absent)."""

    own: Transaction | None
    target: Transaction | None
    reversal_of_target: Transaction | None
