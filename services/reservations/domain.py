"""Reservation aggregate: state machine, optimistic revision, pricing, participants (pure Python)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import Aborted, AlreadyExists, FailedPrecondition
from services.chassis.money import quantize

# Ids derived from the caller's request id make a retried create hold and insert the same rows.
REQUEST_NAMESPACE = uuid.UUID("6f1c7a4e-2b1d-4c55-9a0e-6d8f3b2a9c71")
# 31 symbols without look-alikes (0/O, 1/I/L); 31**12 ≈ 7.9e17 codes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


class Status(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}),
    Status.CHECKED_IN: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}
# Statuses in which the reservation holds seats and can still be changed.
OPEN = frozenset({Status.PENDING, Status.CONFIRMED})


def reservation_id_for(request_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(REQUEST_NAMESPACE, str(request_id))


def new_confirmation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Reservation:
    reservation_id: uuid.UUID
    guest_id: uuid.UUID
    trip_id: uuid.UUID
    confirmation_code: str
    status: Status
    trip_date: date
    party_size: int
    total_amount: Decimal
    currency: str
    rev: int
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def check_revision(self, expected: int) -> None:
        """`expected` 0 means the caller does not ask for the check."""
        if expected and expected != self.rev:
            raise Aborted(
                f"reservation {self.reservation_id} is at revision {self.rev}, not {expected}; re-read and retry",
                reason="REVISION_MISMATCH",
                metadata={"current_revision": str(self.rev)},
            )

    def transition(self, to: Status, now: datetime) -> Reservation:
        if to not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "none"
            raise FailedPrecondition(
                f"cannot move a {self.status} reservation to {to} (allowed: {allowed})",
                reason="ILLEGAL_STATUS_TRANSITION",
                metadata={"from": self.status, "to": to},
            )
        return replace(self, status=to, rev=self.rev + 1, updated_at=now)

    def require_open(self) -> None:
        if not self.is_open:
            raise FailedPrecondition(
                f"reservation {self.reservation_id} is {self.status}",
                reason="RESERVATION_CLOSED",
                metadata={"status": self.status},
            )

    def rebooked(self, trip_date: date, party_size: int, unit_price: Decimal, now: datetime) -> Reservation:
        self.require_open()
        total = quantize(unit_price * party_size, self.currency)
        return replace(
            self, trip_date=trip_date, party_size=party_size, total_amount=total, rev=self.rev + 1, updated_at=now
        )

    def touched(self, now: datetime) -> Reservation:
        return replace(self, rev=self.rev + 1, updated_at=now)


def price(unit_price: Decimal, currency: str, party_size: int, requested_currency: str) -> Decimal:
    if requested_currency and requested_currency != currency:
        raise FailedPrecondition(
            f"the trip is sold in {currency}, not {requested_currency}",
            reason="CURRENCY_MISMATCH",
            metadata={"trip_currency": currency},
        )
    return quantize(unit_price * party_size, currency)


@dataclass(frozen=True)
class Participant:
    participant_id: uuid.UUID
    reservation_id: uuid.UUID
    guest_id: uuid.UUID
    role: str
    waiver_signed: bool
    created_at: datetime


def check_can_join(reservation: Reservation, participants: list[Participant], guest_id: uuid.UUID) -> None:
    reservation.require_open()
    if any(p.guest_id == guest_id for p in participants):
        raise AlreadyExists(f"guest {guest_id} already takes part", reason="PARTICIPANT_EXISTS")
    if len(participants) >= reservation.party_size:
        raise FailedPrecondition(
            f"the party of {reservation.party_size} is full",
            reason="PARTY_FULL",
            metadata={"party_size": str(reservation.party_size)},
        )


@dataclass(frozen=True)
class StatusChange:
    reservation: Reservation
    old_status: Status | None
    changed_by: str
    reason: str
