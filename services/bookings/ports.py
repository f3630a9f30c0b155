"""What the bookings use cases need from businesses, catalog, passes, wallet and payments, and the
values they exchange (pure). A peer's refusal arrives as a chassis domain error with its reason
(adapters.py): SOLD_OUT, INSUFFICIENT_FUNDS, ENTITLEMENT_EXHAUSTED, CUSTOMER_NOT_FOUND, ..."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Customer:
    customer_id: uuid.UUID
    company_id: uuid.UUID
    user_id: str  # the platform user linked, "" for none (a guest)


@dataclass(frozen=True)
class SessionInfo:
    session_id: uuid.UUID
    company_id: uuid.UUID
    activity_id: uuid.UUID
    start: datetime
    end: datetime
    price: Decimal
    currency: str
    scheduled: bool  # SCHEDULED (not finished, not cancelled)


@dataclass(frozen=True)
class ExtraInfo:
    extra_id: uuid.UUID
    activity_id: uuid.UUID
    name: str
    unit_price: Decimal
    currency: str


@dataclass(frozen=True)
class WalletMoves:
    """What a wallet debit took, or its refund gave back: cash and bonus."""

    cash: Decimal
    bonus: Decimal


class Customers(Protocol):
    async def resolve(self, company_id: uuid.UUID, user_id: str) -> Customer:
        """The company's customer linked to the user; NotFound CUSTOMER_NOT_FOUND."""

    async def get(self, customer_id: uuid.UUID) -> Customer:
        """NotFound CUSTOMER_NOT_FOUND."""

    async def register(self, company_id: uuid.UUID, email: str, full_name: str) -> Customer:
        """Idempotent by company + email (the guest path: no user link)."""


class Catalog(Protocol):
    async def session(self, session_id: uuid.UUID) -> SessionInfo:
        """NotFound SESSION_NOT_FOUND."""

    async def extras(self, activity_id: uuid.UUID) -> list[ExtraInfo]: ...

    async def hold(self, session_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        """One seat, idempotent per booking; FailedPrecondition SOLD_OUT / SESSION_NOT_BOOKABLE /
        HOLD_RELEASED (its release overtook it)."""

    async def release(self, session_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        """Idempotent; a booking holding nothing leaves a tombstone."""


class Passes(Protocol):
    async def consume(
        self,
        entitlement_id: uuid.UUID,
        booking_id: uuid.UUID,
        customer_id: uuid.UUID,
        activity_id: uuid.UUID,
        session_start: datetime,
    ) -> None:
        """One session, idempotent per booking; ENTITLEMENT_EXHAUSTED / _EXPIRED / _NOT_APPLICABLE."""

    async def restore(self, entitlement_id: uuid.UUID, booking_id: uuid.UUID) -> bool:
        """Whether the session was given back (not past expiry); idempotent, tombstone on unknown."""


class Wallet(Protocol):
    async def debit(
        self, operation_id: uuid.UUID, customer_id: uuid.UUID, company_id: uuid.UUID, amount: Decimal, currency: str
    ) -> WalletMoves:
        """Bonus first, then cash; FailedPrecondition INSUFFICIENT_FUNDS writes nothing."""

    async def refund(self, operation_id: uuid.UUID, debit_operation_id: uuid.UUID) -> WalletMoves:
        """Gives back what the debit took; an unknown debit: nothing, and a tombstone."""


class Cards(Protocol):
    async def authorize(
        self, key: uuid.UUID, customer_id: uuid.UUID, amount: Decimal, currency: str, token: str
    ) -> str:
        """The authorization id (keyed by `key`, at payments and its processor); PaymentDeclined."""

    async def capture(self, authorization_id: str) -> None: ...

    async def void_authorization(self, authorization_id: str) -> None:
        """Voids it, or refunds it once captured; idempotent."""

    async def void(self, key: uuid.UUID) -> None:
        """Voids (refunds once captured) the authorization of `key`; a tombstone when there is none."""
