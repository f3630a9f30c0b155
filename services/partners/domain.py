"""Partners: tiered commission plans, API keys, bookings (pure Python)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from services.chassis.errors import FieldViolation, InvalidArgument
from services.chassis.money import quantize

KEY_PREFIX = "ntk"
RATE_STEP = Decimal("0.00001")


class Basis(StrEnum):
    BOOKING_COUNT = "booking_count"
    GROSS_VALUE = "gross_value"


@dataclass(frozen=True)
class CommissionPlan:
    """Tiers of (threshold, rate), ascending from 0: the rate is the highest tier the month reached."""

    basis: Basis
    tiers: tuple[tuple[Decimal, Decimal], ...]

    @classmethod
    def parse(
        cls, basis: Basis | None, tiers: list[tuple[str, str]], field: str = "partner.commission_plan"
    ) -> CommissionPlan:
        problems: list[FieldViolation] = []
        parsed: list[tuple[Decimal, Decimal]] = []
        if basis is None:
            problems.append(FieldViolation(f"{field}.basis", "must be BOOKING_COUNT or GROSS_VALUE"))
        for i, (threshold, rate) in enumerate(tiers):
            try:
                pair = (Decimal(threshold), Decimal(rate))
            except InvalidOperation:
                pair = None
            # NaN compares by raising (it was a 500), and an infinite threshold is no tier.
            if pair is None or not all(d.is_finite() for d in pair):
                problems.append(
                    FieldViolation(f"{field}.tiers[{i}]", "threshold and rate must be finite decimal strings")
                )
            else:
                parsed.append(pair)
        if not tiers or (parsed and parsed[0][0] != 0):
            problems.append(FieldViolation(f"{field}.tiers", "needs at least one tier, the first with threshold 0"))
        if any(b[0] <= a[0] for a, b in itertools.pairwise(parsed)):
            problems.append(FieldViolation(f"{field}.tiers", "thresholds must ascend strictly"))
        if any(not (0 <= r <= 1) for _, r in parsed):
            problems.append(FieldViolation(f"{field}.tiers", "rates must be between 0 and 1"))
        elif any(r != r.quantize(RATE_STEP) for _, r in parsed):  # bookings store the rate as NUMERIC(6, 5)
            problems.append(FieldViolation(f"{field}.tiers", "rates have at most 5 decimal places"))
        if problems or basis is None:  # (no basis is one of the problems)
            raise InvalidArgument("invalid commission plan", violations=problems)
        return cls(basis, tuple(parsed))

    def rate_for(self, volume: Decimal) -> Decimal:
        return max((t for t in self.tiers if t[0] <= volume), key=lambda t: t[0])[1]

    def to_json(self) -> dict[str, Any]:
        return {"basis": self.basis.value, "tiers": [[str(t), str(r)] for t, r in self.tiers]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CommissionPlan:
        return cls(Basis(data["basis"]), tuple((Decimal(t), Decimal(r)) for t, r in data["tiers"]))


def commission(gross: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(gross * rate, currency)


@dataclass(frozen=True)
class IssuedKey:
    """An API key as shown once: `ntk_<key id>_<secret>`. Only the key id and the HMAC are kept."""

    key_id: str
    plaintext: str


def issue_key() -> IssuedKey:
    key_id = secrets.token_hex(6)
    return IssuedKey(key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}")


def split_key(presented: str) -> str | None:
    """The key id of a well-formed key, else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def key_digest(pepper: bytes, presented: str) -> str:
    """HMAC-SHA256 under a server-side pepper: a leaked table does not reveal or verify keys."""
    return hmac.new(pepper, presented.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Partner:
    partner_id: uuid.UUID
    name: str
    contact_email: str
    webhook_url: str
    webhook_secret: str
    plan: CommissionPlan
    api_key_id: str
    api_key_hash: str
    created_at: datetime
    previous_key_id: str | None = None
    previous_key_hash: str | None = None
    previous_key_expires_at: datetime | None = None

    def accepts(self, key_id: str, digest: str, now: datetime) -> bool:
        current = key_id == self.api_key_id and hmac.compare_digest(digest, self.api_key_hash)
        previous = (
            key_id == self.previous_key_id
            and self.previous_key_hash is not None
            and self.previous_key_expires_at is not None
            and now < self.previous_key_expires_at
            and hmac.compare_digest(digest, self.previous_key_hash)
        )
        return current or previous

    def rotated(self, key: IssuedKey, digest: str, now: datetime, grace: timedelta) -> Partner:
        return replace(
            self,
            api_key_id=key.key_id,
            api_key_hash=digest,
            previous_key_id=self.api_key_id,
            previous_key_hash=self.api_key_hash,
            previous_key_expires_at=now + grace,
        )


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PartnerBooking:
    booking_id: uuid.UUID
    partner_id: uuid.UUID
    reservation_id: uuid.UUID
    confirmation_code: str
    partner_reference: str
    guest_id: uuid.UUID
    trip_id: uuid.UUID
    trip_date: date
    party_size: int
    status: BookingStatus
    gross_amount: Decimal
    commission_amount: Decimal
    commission_rate: Decimal
    currency: str
    created_at: datetime
    cancelled_at: datetime | None = None

    @property
    def commission_record_id(self) -> uuid.UUID:
        return commission_record_of(self.booking_id)


def commission_record_of(booking_id: uuid.UUID) -> uuid.UUID:
    """Derived, so a retried pipeline step names the same record to payments."""
    return uuid.uuid5(booking_id, "commission")
