"""Guest identity and eligibility rules (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class GuestStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class Ineligibility(StrEnum):
    NOT_FOUND = "not_found"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    NAME_MISMATCH = "name_mismatch"
    EMAIL_MISMATCH = "email_mismatch"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass(frozen=True)
class Guest:
    first_name: str
    last_name: str
    email: str
    created_at: datetime
    updated_at: datetime
    phone: str = ""
    date_of_birth: date | None = None
    status: GuestStatus = GuestStatus.ACTIVE
    guest_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def with_changes(self, changes: dict[str, Any], now: datetime) -> Guest:
        if "email" in changes:
            changes = {**changes, "email": normalize_email(changes["email"])}
        return replace(self, **changes, updated_at=now)


@dataclass(frozen=True)
class IdentityClaim:
    """What a caller says about a guest; empty fields are not checked."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""


def ineligibility(guest: Guest | None, claim: IdentityClaim) -> list[Ineligibility]:
    """Every reason the guest may not book; empty means eligible."""
    if guest is None:
        return [Ineligibility.NOT_FOUND]
    reasons = []
    if guest.status is GuestStatus.INACTIVE:
        reasons.append(Ineligibility.INACTIVE)
    if guest.status is GuestStatus.SUSPENDED:
        reasons.append(Ineligibility.SUSPENDED)
    names = ((claim.first_name, guest.first_name), (claim.last_name, guest.last_name))
    if any(given and not _same(given, actual) for given, actual in names):
        reasons.append(Ineligibility.NAME_MISMATCH)
    if claim.email and normalize_email(claim.email) != guest.email:
        reasons.append(Ineligibility.EMAIL_MISMATCH)
    return reasons
