"""Checkouts: a cart's lines as the cart showed them, its total, and how its saga ended (pure Python).

running -> completed (the order is placed) | failed (every step taken was compensated)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import DeadlineExceeded, DomainError, FailedPrecondition, Unavailable
from services.chassis.money import quantize

# Checkout ids derive from the cart's: a second checkout of a cart is the first one.
CHECKOUT_NAMESPACE = uuid.UUID("5d0c2a71-93b4-4f0e-8c1a-7e2f64b9d318")
MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_UNIT_PRICE = Decimal(10) ** 7  # the orders' limit: 50 x 1000 x below it fits NUMERIC(14, 2)
NAME_MAX = 200
MESSAGE_MAX = 500
# A saga the recovery loop compensated: the process that ran it died, its caller is gone.
INTERRUPTED = "CHECKOUT_INTERRUPTED"


class CheckoutState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


def checkout_id_for(cart_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(CHECKOUT_NAMESPACE, str(cart_id))


@dataclass(frozen=True)
class CartLine:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    quantity: int


@dataclass(frozen=True)
class Cart:
    """A checked-out cart as the Shopping domain sent it (validated)."""

    cart_id: uuid.UUID
    guest_id: uuid.UUID
    lines: tuple[CartLine, ...]
    payment_method_token: str

    @property
    def checkout_id(self) -> uuid.UUID:
        return checkout_id_for(self.cart_id)

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def total(self) -> Decimal:
        return quantize(sum((line.unit_price * line.quantity for line in self.lines), Decimal(0)), self.currency)

    @property
    def fingerprint(self) -> str:
        """What a second checkout of this cart must repeat to be answered with the first."""
        body: list[object] = [str(self.guest_id), self.payment_method_token]
        body += [[ln.sku, ln.name, str(ln.unit_price), ln.currency, ln.quantity] for ln in self.lines]
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()


@dataclass(frozen=True)
class Checkout:
    checkout_id: uuid.UUID
    cart_id: uuid.UUID
    guest_id: uuid.UUID
    lines: tuple[CartLine, ...]
    total: Decimal
    currency: str
    state: CheckoutState
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    order_id: uuid.UUID | None = None
    authorization_id: str = ""
    failure_reason: str = ""
    failure_message: str = ""

    @classmethod
    def start(cls, cart: Cart, now: datetime) -> Checkout:
        return cls(
            cart.checkout_id,
            cart.cart_id,
            cart.guest_id,
            cart.lines,
            cart.total,
            cart.currency,
            CheckoutState.RUNNING,
            cart.fingerprint,
            now,
            now,
        )

    @property
    def running(self) -> bool:
        return self.state is CheckoutState.RUNNING

    def interrupted(self, now: datetime) -> Checkout:
        """The end of a checkout whose process died before its saga was recorded: nothing ran."""
        return replace(
            self,
            state=CheckoutState.FAILED,
            failure_reason=INTERRUPTED,
            failure_message="the checkout was interrupted before it started",
            updated_at=now,
        )


class StartedTooLate(FailedPrecondition):
    """A saga recorded so long after its cart was claimed that recovery may have failed the checkout
    as interrupted meanwhile: its steps must not run."""

    def __init__(self) -> None:
        super().__init__("the checkout was interrupted before it started", reason=INTERRUPTED)


class PaymentDeclined(FailedPrecondition):
    """The processor declined the authorization: a final answer, compensated."""

    def __init__(self, decline_reason: str) -> None:
        super().__init__(f"the payment was declined ({decline_reason})", reason="PAYMENT_DECLINED")


class AuthorizationNotUsable(FailedPrecondition):
    """Payments answered an authorization that no longer holds the money (voided, refunded, captured):
    no order may be placed on it; compensated like a decline."""

    def __init__(self, authorization_id: str, status: str) -> None:
        super().__init__(
            f"authorization {authorization_id} is {status}, not a hold",
            reason="AUTHORIZATION_NOT_USABLE",
            metadata={"authorization_id": authorization_id, "status": status},
        )


def failure_of(error: BaseException | None) -> tuple[str, str]:
    """(failure_reason, failure_message) of a compensated checkout. A dependency that was down or too
    slow is DEPENDENCY_UNAVAILABLE (which one, in the message); a business refusal keeps its reason."""
    if error is None:
        return INTERRUPTED, "the checkout was interrupted and undone"
    if isinstance(error, Unavailable | DeadlineExceeded):
        return "DEPENDENCY_UNAVAILABLE", str(error)[:MESSAGE_MAX]
    if isinstance(error, DomainError):
        return error.reason, str(error)[:MESSAGE_MAX]
    return "CHECKOUT_ERROR", "the checkout failed unexpectedly"
