"""Companies and their customers: values, limits, and the answers the rules give (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.chassis.errors import AlreadyExists, FailedPrecondition, NotFound, key_reused

NAME_MAX = 200
FULL_NAME_MAX = 200


class CompanyKind(StrEnum):
    NOVATREK_BASE = "novatrek_base"
    PARTNER_BUSINESS = "partner_business"


@dataclass(frozen=True)
class Company:
    company_id: uuid.UUID
    request_id: uuid.UUID  # the CreateCompany that made it: its idempotency key
    name: str
    kind: CompanyKind
    currency: str  # ISO 4217: every price and balance of the company is in it
    created_at: datetime

    def answering(self, name: str, kind: CompanyKind, currency: str) -> Company:
        """This company as the answer to a repeated CreateCompany; other values under its key are refused."""
        if (name, kind, currency) != (self.name, self.kind, self.currency):
            raise key_reused("request_id", self.request_id)
        return self


@dataclass(frozen=True)
class Customer:
    """A person known to one company by e-mail (lowercase), optionally linked to a platform user
    and to a guest profile."""

    customer_id: uuid.UUID
    company_id: uuid.UUID
    email: str
    full_name: str
    user_id: uuid.UUID | None
    guest_id: uuid.UUID | None
    created_at: datetime

    def answering(self, user_id: uuid.UUID | None, guest_id: uuid.UUID | None) -> Customer:
        """This customer (as stored after the registration's links) as the answer to a registration
        of its e-mail: a user or guest other than the one linked is refused."""
        if user_id is not None and self.user_id != user_id:
            raise AlreadyExists(
                f"the customer {self.email} of company {self.company_id} is linked to another user",
                reason="CUSTOMER_LINKED_TO_OTHER_USER",
                metadata={"customer_id": str(self.customer_id)},
            )
        if guest_id is not None and self.guest_id != guest_id:
            raise AlreadyExists(
                f"the customer {self.email} of company {self.company_id} is linked to another guest",
                reason="CUSTOMER_LINKED_TO_OTHER_GUEST",
                metadata={"customer_id": str(self.customer_id)},
            )
        return self


def normalize_email(email: str) -> str:
    return email.strip().lower()


def company_not_found(company_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"company {company_id} does not exist", reason="COMPANY_NOT_FOUND", metadata={"company_id": str(company_id)}
    )


def customer_not_found(message: str) -> NotFound:
    return NotFound(message, reason="CUSTOMER_NOT_FOUND")


def user_taken(company_id: uuid.UUID, user_id: uuid.UUID) -> AlreadyExists:
    """The user is linked to another customer (another e-mail) of the company."""
    return AlreadyExists(
        f"user {user_id} is linked to another customer of company {company_id}",
        reason="USER_LINKED_TO_OTHER_CUSTOMER",
        metadata={"company_id": str(company_id), "user_id": str(user_id)},
    )


def guest_not_found(guest_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"guest {guest_id} does not exist", reason="GUEST_NOT_FOUND", metadata={"guest_id": str(guest_id)}
    )
