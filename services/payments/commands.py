"""Validated inputs of the payment use cases (built by the servicer or a consumer). Charges,
authorization requests and commission claims are domain values (ChargeRequest, AuthorizationRequest,
CommissionClaim in domain.py): the domain decides with them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.payments.domain import PayoutStatus


@dataclass(frozen=True)
class ListPayouts:
    partner_id: uuid.UUID | None
    status: PayoutStatus | None
    position: list | None
    limit: int


@dataclass(frozen=True)
class VoidAuthorization:
    """Exactly one of the two addresses the authorization; a checkout id reaches the processor even
    when we have no row for it (its answer was lost)."""

    authorization_id: uuid.UUID | None
    checkout_id: uuid.UUID | None
    reason: str
