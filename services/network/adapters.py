"""The ports over the typed clients: businesses (a company's currency) and loyalty."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from clients.businesses import BusinessesClient
from services.chassis.errors import Unavailable
from services.network.ports import LoyaltyRedemption


class BusinessesOverGrpc:
    def __init__(self, client: BusinessesClient) -> None:
        self.client = client

    async def currency_of(self, company_id: uuid.UUID) -> str:
        """businesses' NOT_FOUND COMPANY_NOT_FOUND passes through unchanged."""
        return (await self.client.company(str(company_id))).currency


class LoyaltyNotWired:
    """Until loyalty's typed client (clients/loyalty.py, branch wt-loyalty) is in this tree: every
    call is UNAVAILABLE, so a redemption consumes and records nothing."""

    def _down(self) -> Unavailable:
        return Unavailable("loyalty is not reachable from partner-network yet", metadata={"dependency": "loyalty"})

    async def redeemable(self, member_id: uuid.UUID, company_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        raise self._down()

    async def redeem(
        self,
        operation_id: uuid.UUID,
        member_id: uuid.UUID,
        company_id: uuid.UUID,
        points: int,
        issuer_company_ids: Sequence[uuid.UUID],
    ) -> LoyaltyRedemption:
        raise self._down()

    async def reverse(self, operation_id: uuid.UUID, redemption_operation_id: uuid.UUID) -> None:
        raise self._down()
