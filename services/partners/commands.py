"""Validated inputs of the partner use cases (built by the servicer from protobuf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from services.partners.domain import CommissionPlan


@dataclass(frozen=True)
class NewPartner:
    name: str
    contact_email: str
    webhook_url: str
    plan: CommissionPlan


@dataclass(frozen=True)
class NewBooking:
    idempotency_key: str
    request_hash: str
    guest_id: uuid.UUID
    first_name: str
    last_name: str
    email: str
    trip_id: uuid.UUID
    trip_date: date
    party_size: int
    partner_reference: str
