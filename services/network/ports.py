"""What the use cases need from businesses and loyalty, and the values they exchange (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class Businesses(Protocol):
    async def currency_of(self, company_id: uuid.UUID) -> str:
        """The company's currency; NotFound COMPANY_NOT_FOUND when businesses does not know it,
        Unavailable when it cannot answer."""


@dataclass(frozen=True)
class LoyaltyRedemption:
    """What loyalty's RedeemPoints consumed: points per issuing company, and what one point is worth
    at the redeeming company (in `currency`)."""

    by_issuer: tuple[tuple[uuid.UUID, int], ...]
    point_value: Decimal
    currency: str


class Loyalty(Protocol):
    async def redeemable(self, member_id: uuid.UUID, company_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The member's unexpired points by issuing company, among `company_ids` (GetLoyaltyAccount)."""

    async def redeem(
        self,
        operation_id: uuid.UUID,
        member_id: uuid.UUID,
        company_id: uuid.UUID,
        points: int,
        issuer_company_ids: Sequence[uuid.UUID],
    ) -> LoyaltyRedemption:
        """Consumes `points` issued by those companies, in one transaction at loyalty; idempotent per
        operation_id. FailedPrecondition INSUFFICIENT_POINTS (nothing consumed) or NO_REDEEM_RULE."""

    async def reverse(self, operation_id: uuid.UUID, redemption_operation_id: uuid.UUID) -> None:
        """Gives a redemption's points back (idempotent per operation_id; an unknown one: nothing)."""
