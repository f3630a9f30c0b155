"""The ports over the typed clients: businesses (a company's currency) and loyalty."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from clients.businesses import BusinessesClient
from clients.loyalty import LoyaltyClient
from services.chassis.protoconv import decimal_of
from services.network.ports import LoyaltyRedemption


class BusinessesOverGrpc:
    def __init__(self, client: BusinessesClient) -> None:
        self.client = client

    async def currency_of(self, company_id: uuid.UUID) -> str:
        """businesses' NOT_FOUND COMPANY_NOT_FOUND passes through unchanged."""
        return (await self.client.company(str(company_id))).currency


class LoyaltyOverGrpc:
    """The Loyalty port over loyalty's typed client; its refusals (INSUFFICIENT_POINTS,
    NO_REDEEM_RULE, IDEMPOTENCY_KEY_REUSED) pass through unchanged."""

    def __init__(self, client: LoyaltyClient) -> None:
        self.client = client

    async def redeemable(self, member_id: uuid.UUID, company_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        account = await self.client.get_loyalty_account(str(member_id), [str(c) for c in company_ids])
        return {uuid.UUID(b.company_id): b.points for b in account.balances_by_issuer}

    async def redeem(
        self,
        operation_id: uuid.UUID,
        member_id: uuid.UUID,
        company_id: uuid.UUID,
        points: int,
        issuer_company_ids: Sequence[uuid.UUID],
    ) -> LoyaltyRedemption:
        answer = await self.client.redeem_points(
            str(operation_id), str(member_id), str(company_id), points, [str(c) for c in issuer_company_ids]
        )
        consumed = tuple((uuid.UUID(c.issuer_company_id), c.points) for c in answer.consumed)
        return LoyaltyRedemption(consumed, decimal_of(answer.point_value), answer.point_value.currency_code)

    async def reverse(self, operation_id: uuid.UUID, redemption_operation_id: uuid.UUID) -> None:
        await self.client.reverse_transaction(str(operation_id), str(redemption_operation_id))
