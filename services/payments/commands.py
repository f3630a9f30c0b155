"""Validated inputs of the payment use cases (built by the servicer from protobuf). Charges and
commission claims are domain values (ChargeRequest, CommissionClaim in domain.py): the domain
decides with them."""

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
