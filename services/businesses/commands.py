"""The validated inputs of the businesses use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.businesses.domain import CompanyKind


@dataclass(frozen=True)
class CreateCompany:
    request_id: uuid.UUID
    name: str
    kind: CompanyKind
    currency: str


@dataclass(frozen=True)
class RegisterCustomer:
    company_id: uuid.UUID
    email: str  # normalized (lowercase)
    full_name: str
    user_id: uuid.UUID | None
    guest_id: uuid.UUID | None


@dataclass(frozen=True)
class GetCustomer:
    customer_id: uuid.UUID
    company_id: uuid.UUID | None  # given: the customer must be this company's


@dataclass(frozen=True)
class ListCompanies:
    position: list[Any] | None
    limit: int


@dataclass(frozen=True)
class ListCustomers:
    company_id: uuid.UUID
    position: list[Any] | None
    limit: int
