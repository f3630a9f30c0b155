"""The validated inputs of the partner-network use cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from services.chassis.pagination import Position


@dataclass(frozen=True)
class CreateNetwork:
    request_id: uuid.UUID
    name: str
    currency: str
    founder_company_id: uuid.UUID


@dataclass(frozen=True)
class ListMembers:
    network_id: uuid.UUID
    include_left: bool


@dataclass(frozen=True)
class LeaveNetwork:
    network_id: uuid.UUID
    company_id: uuid.UUID


@dataclass(frozen=True)
class InviteBusiness:
    network_id: uuid.UUID
    inviter_company_id: uuid.UUID
    invitee_company_id: uuid.UUID
    ttl: timedelta


@dataclass(frozen=True)
class RedeemAcrossNetwork:
    operation_id: uuid.UUID
    network_id: uuid.UUID
    member_id: uuid.UUID
    company_id: uuid.UUID  # where the points are redeemed
    points: int


@dataclass(frozen=True)
class ListTransactions:
    network_id: uuid.UUID
    position: Position | None
    limit: int


@dataclass(frozen=True)
class SettleRevenue:
    network_id: uuid.UUID
    period_start: date
    period_end: date  # exclusive
