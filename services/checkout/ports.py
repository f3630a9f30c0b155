"""What the checkout saga needs from the inventory, payments and orders contexts (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from services.checkout.domain import CartLine


class Inventory(Protocol):
    async def reserve(self, checkout_id: uuid.UUID, lines: Sequence[CartLine], hold_s: int) -> None:
        """All lines or none; FailedPrecondition OUT_OF_STOCK / SKU_NOT_FOUND otherwise."""

    async def release(self, checkout_id: uuid.UUID) -> None:
        """Idempotent; nothing reserved is nothing to do."""


class Payments(Protocol):
    async def authorize(
        self, checkout_id: uuid.UUID, guest_id: uuid.UUID, amount: Decimal, currency: str, token: str
    ) -> str:
        """The authorization id; PaymentDeclined when declined, Unavailable when it cannot answer."""

    async def void(self, checkout_id: uuid.UUID, reason: str) -> None:
        """By checkout id: voids at the processor too when our answer was lost; idempotent."""


class Orders(Protocol):
    async def create(
        self, checkout_id: uuid.UUID, guest_id: uuid.UUID, lines: Sequence[CartLine], authorization_id: str
    ) -> uuid.UUID:
        """The order id (derived from the checkout id); idempotent per checkout."""

    async def cancel(self, checkout_id: uuid.UUID, reason: str) -> None:
        """Cancels the checkout's order if there is one; idempotent."""
