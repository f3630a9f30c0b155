"""Partner networks: networks, memberships, invitations, cross-business transactions and the answers
the rules give (pure Python). The settlement arithmetic is in settlement.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied, key_reused

NAME_MAX = 200
DEFAULT_TTL = timedelta(days=7)
MIN_TTL, MAX_TTL = timedelta(minutes=1), timedelta(days=90)
MAX_POINTS = 10**12  # one redemption's points (loyalty's ledger is bigint)


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    # A pending invitation past its expire_time reads as expired; it is stored so only when a new
    # invitation of the same business replaces it (one pending invitation per invitee).
    EXPIRED = "expired"


@dataclass(frozen=True)
class Network:
    network_id: uuid.UUID
    request_id: uuid.UUID  # the CreateNetwork that made it: its idempotency key
    name: str
    currency: str
    founder_company_id: uuid.UUID
    created_at: datetime
    settled_through: date | None = None  # the end (exclusive) of the latest period settled

    def settlement_date(self, at: datetime) -> date:
        """The day whose period settles a transaction made `at`: its own, unless a settlement already
        closed that day's period (then the first day after the periods settled)."""
        day = at.date()
        return max(day, self.settled_through) if self.settled_through else day

    def answering(self, name: str, currency: str, founder: uuid.UUID) -> Network:
        """This network as the answer to a repeated CreateNetwork; other values under its key are refused."""
        if (name, currency, founder) != (self.name, self.currency, self.founder_company_id):
            raise key_reused("request_id", self.request_id)
        return self


@dataclass(frozen=True)
class Membership:
    membership_id: uuid.UUID
    network_id: uuid.UUID
    company_id: uuid.UUID
    joined_at: datetime
    left_at: datetime | None = None
    invitation_id: uuid.UUID | None = None  # None: the founder's

    @property
    def current(self) -> bool:
        return self.left_at is None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether it was a member at some time in [start, end)."""
        return self.joined_at < end and (self.left_at is None or self.left_at > start)


@dataclass(frozen=True)
class Invitation:
    invitation_id: uuid.UUID
    network_id: uuid.UUID
    inviter_company_id: uuid.UUID
    invitee_company_id: uuid.UUID
    status: InvitationStatus  # as stored
    created_at: datetime
    expire_at: datetime
    decided_at: datetime | None = None

    def status_at(self, now: datetime) -> InvitationStatus:
        if self.status is InvitationStatus.PENDING and now >= self.expire_at:
            return InvitationStatus.EXPIRED
        return self.status

    def open_at(self, now: datetime) -> bool:
        return self.status_at(now) is InvitationStatus.PENDING

    def decided(self, status: InvitationStatus, now: datetime) -> Invitation:
        """Accepted or declined now: refused unless still open (a repeat of the same decision is the
        caller's to answer before)."""
        current = self.status_at(now)
        if current is not InvitationStatus.PENDING:
            raise invitation_closed(self.invitation_id, current)
        return replace(self, status=status, decided_at=now)


@dataclass(frozen=True)
class CrossBusinessTransaction:
    transaction_id: uuid.UUID
    operation_id: uuid.UUID
    network_id: uuid.UUID
    issuer_company_id: uuid.UUID
    redeemer_company_id: uuid.UUID
    member_id: uuid.UUID
    points: int
    point_value: Decimal
    value: Decimal  # points x point_value, rounded to the currency
    currency: str
    occurred_at: datetime
    settlement_date: date  # Network.settlement_date(occurred_at) when it was recorded


@dataclass(frozen=True)
class Redemption:
    """A RedeemAcrossNetwork as recorded: its request (the idempotency key's body) and what it made."""

    operation_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    company_id: uuid.UUID
    points: int
    value: Decimal
    currency: str
    occurred_at: datetime
    transactions: tuple[CrossBusinessTransaction, ...] = ()

    def answering(self, network_id: uuid.UUID, member_id: uuid.UUID, company_id: uuid.UUID, points: int) -> Redemption:
        if (network_id, member_id, company_id, points) != (
            self.network_id,
            self.member_id,
            self.company_id,
            self.points,
        ):
            raise key_reused("operation_id", self.operation_id)
        return self


def network_not_found(network_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"network {network_id} does not exist", reason="NETWORK_NOT_FOUND", metadata={"network_id": str(network_id)}
    )


def invitation_not_found(invitation_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"invitation {invitation_id} does not exist",
        reason="INVITATION_NOT_FOUND",
        metadata={"invitation_id": str(invitation_id)},
    )


def member_not_found(network_id: uuid.UUID, company_id: uuid.UUID) -> NotFound:
    return NotFound(
        f"company {company_id} never was a member of network {network_id}",
        reason="MEMBER_NOT_FOUND",
        metadata={"network_id": str(network_id), "company_id": str(company_id)},
    )


def not_a_member(network_id: uuid.UUID, company_id: uuid.UUID) -> PermissionDenied:
    return PermissionDenied(
        f"company {company_id} is not a member of network {network_id}",
        reason="NOT_A_MEMBER",
        metadata={"network_id": str(network_id), "company_id": str(company_id)},
    )


def already_member(network_id: uuid.UUID, company_id: uuid.UUID) -> AlreadyExists:
    return AlreadyExists(
        f"company {company_id} is a member of network {network_id} already",
        reason="ALREADY_MEMBER",
        metadata={"network_id": str(network_id), "company_id": str(company_id)},
    )


def currency_mismatch(company_id: uuid.UUID, company_currency: str, network_currency: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"company {company_id} sells in {company_currency}, the network in {network_currency}",
        reason="CURRENCY_MISMATCH",
        metadata={"company_id": str(company_id), "currency": company_currency, "network_currency": network_currency},
    )


def invitation_closed(invitation_id: uuid.UUID, status: InvitationStatus) -> FailedPrecondition:
    return FailedPrecondition(
        f"invitation {invitation_id} is {status.value}",
        reason=f"INVITATION_{status.name}",
        metadata={"invitation_id": str(invitation_id)},
    )


def insufficient_points(available: int, requested: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"the member holds {available} points redeemable in the network, {requested} were asked for",
        reason="INSUFFICIENT_POINTS",
        metadata={"available": str(available), "requested": str(requested)},
    )


def period_overlaps(start: date, end: date) -> FailedPrecondition:
    return FailedPrecondition(
        f"the period [{start}, {end}) overlaps a settled period",
        reason="PERIOD_OVERLAPS",
        metadata={"period_start": start.isoformat(), "period_end": end.isoformat()},
    )


def period_not_ended(end: date, today: date) -> FailedPrecondition:
    return FailedPrecondition(
        f"the period ends {end}, after the end of today ({today}): a later day cannot be settled yet",
        reason="PERIOD_NOT_ENDED",
        metadata={"period_end": end.isoformat()},
    )
