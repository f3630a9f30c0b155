"""Pass products, customer entitlements and their per-booking usages: values, limits, and the answers
the rules give (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, NotFound, key_reused

NAME_MAX = 200
MAX_SESSIONS = 1000
MAX_VALIDITY_DAYS = 3660
MAX_ACTIVITIES = 100
# A pass's price stays below this (exclusive): its numeric(12, 2) column holds less than 10^10.
MAX_PRICE = Decimal(10) ** 10


class UsageStatus(StrEnum):
    CONSUMED = "consumed"
    RESTORED = "restored"  # given back
    FORFEITED = "forfeited"  # restored past the entitlement's expiry: nothing given back
    TOMBSTONE = "tombstone"  # restored before anything was consumed


@dataclass(frozen=True)
class PassProduct:
    product_id: uuid.UUID
    company_id: uuid.UUID
    name: str
    sessions: int
    validity_days: int
    activity_ids: tuple[uuid.UUID, ...]  # sorted; empty: every activity of the company
    price: Decimal
    currency: str
    created_at: datetime

    def same_request(self, other: PassProduct) -> bool:
        """Whether `other` asks for this very product (a repeated CreatePassProduct)."""
        mine = (self.company_id, self.name, self.sessions, self.validity_days, self.activity_ids)
        theirs = (other.company_id, other.name, other.sessions, other.validity_days, other.activity_ids)
        return mine == theirs and (self.price, self.currency) == (other.price, other.currency)


@dataclass(frozen=True)
class Entitlement:
    entitlement_id: uuid.UUID
    product_id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    sessions_total: int
    sessions_remaining: int
    activity_ids: tuple[uuid.UUID, ...]
    valid_from: datetime
    expire_time: datetime
    created_at: datetime

    @classmethod
    def issued(
        cls, entitlement_id: uuid.UUID, product: PassProduct, customer_id: uuid.UUID, now: datetime
    ) -> Entitlement:
        expires = now + timedelta(days=product.validity_days)
        return cls(
            entitlement_id,
            product.product_id,
            product.company_id,
            customer_id,
            product.sessions,
            product.sessions,
            product.activity_ids,
            now,
            expires,
            now,
        )

    def covers(self, activity_id: uuid.UUID) -> bool:
        return not self.activity_ids or activity_id in self.activity_ids

    def expired(self, now: datetime) -> bool:
        return now >= self.expire_time


@dataclass(frozen=True)
class Usage:
    """One booking's session of an entitlement, keyed by the booking."""

    booking_id: uuid.UUID
    entitlement_id: uuid.UUID
    activity_id: uuid.UUID | None  # None: a tombstone
    session_start: datetime | None
    status: UsageStatus
    created_at: datetime
    restored_at: datetime | None = None


@dataclass(frozen=True)
class SessionUse:
    """A booking asking for one session of an entitlement (ConsumeEntitlement's validated input, which
    the rules decide with)."""

    entitlement_id: uuid.UUID
    booking_id: uuid.UUID
    customer_id: uuid.UUID
    activity_id: uuid.UUID
    session_start: datetime

    def usage(self, now: datetime) -> Usage:
        return Usage(
            self.booking_id, self.entitlement_id, self.activity_id, self.session_start, UsageStatus.CONSUMED, now
        )


@dataclass(frozen=True)
class Consumption:
    """The answer to ConsumeEntitlement: the entitlement after it, and the booking's usage."""

    entitlement: Entitlement
    usage: Usage


@dataclass(frozen=True)
class Restoration:
    """The answer to RestoreEntitlement: whether the session is back, the entitlement (None when there
    is no such entitlement) and the booking's usage (None with it)."""

    restored: bool
    entitlement: Entitlement | None
    usage: Usage | None


def entitlement_not_found(entitlement_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"entitlement {entitlement_id} does not exist",
        reason="ENTITLEMENT_NOT_FOUND",
        metadata={"entitlement_id": str(entitlement_id)},
    )


def product_not_found(product_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"pass product {product_id} does not exist",
        reason="PASS_PRODUCT_NOT_FOUND",
        metadata={"product_id": str(product_id)},
    )


def replayed_issue(
    found: Entitlement, product_id: uuid.UUID, customer_id: uuid.UUID, request_id: uuid.UUID
) -> Entitlement:
    """The entitlement a repeated IssueEntitlement answers; another product or customer is refused."""
    if (found.product_id, found.customer_id) != (product_id, customer_id):
        raise key_reused("request_id", request_id)
    return found


def replayed_usage(usage: Usage, cmd: SessionUse) -> Usage:
    """The usage a repeated consume answers: refused when the booking's usage was restored (or left a
    tombstone) first, or when the booking consumed with other values."""
    if usage.status is not UsageStatus.CONSUMED:
        raise FailedPrecondition(
            f"the entitlement usage of booking {usage.booking_id} was restored",
            reason="USAGE_RESTORED",
            metadata={"booking_id": str(usage.booking_id), "entitlement_id": str(usage.entitlement_id)},
        )
    if (usage.entitlement_id, usage.activity_id, usage.session_start) != (
        cmd.entitlement_id,
        cmd.activity_id,
        cmd.session_start,
    ):
        raise key_reused("booking_id", usage.booking_id)
    return usage


def consume_refusal(found: Entitlement | None, cmd: SessionUse, now: datetime) -> NotFound | FailedPrecondition | None:
    """Why a consume took nothing, judged on a fresh read; None when nothing forbids it now (a
    concurrent restore gave a session back: try again). Another customer's entitlement is not found."""
    if found is None or found.customer_id != cmd.customer_id:
        return entitlement_not_found(cmd.entitlement_id)
    meta = {"entitlement_id": str(found.entitlement_id)}
    if found.expired(now) or cmd.session_start >= found.expire_time:
        meta["expire_time"] = found.expire_time.isoformat()
        return FailedPrecondition(
            "the entitlement expired before the session", reason="ENTITLEMENT_EXPIRED", metadata=meta
        )
    if not found.covers(cmd.activity_id):
        meta["activity_id"] = str(cmd.activity_id)
        return FailedPrecondition(
            f"the entitlement does not cover activity {cmd.activity_id}",
            reason="ENTITLEMENT_NOT_APPLICABLE",
            metadata=meta,
        )
    if found.sessions_remaining <= 0:
        return FailedPrecondition("the entitlement has no session left", reason="ENTITLEMENT_EXHAUSTED", metadata=meta)
    return None
