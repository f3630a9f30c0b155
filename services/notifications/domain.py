"""Notifications, their delivery state machine and the retry policy (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.chassis.errors import FailedPrecondition

LOG_TARGET = "log"  # guest notifications are "delivered" as a structured log line
ERROR_MAX = 500


class Kind(StrEnum):
    PARTNER_BOOKING_CONFIRMED = "partner_booking_confirmed"
    RESERVATION_STATUS_CHANGED = "reservation_status_changed"


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base·2^(n−1) after the n-th failed attempt of a round, capped at `max_s`,
    minus up to `jitter` of it (so receivers that come back are not hit by every sender at once)."""

    base_s: float = 1.0
    max_s: float = 300.0
    max_attempts: int = 8
    jitter: float = 0.2

    def delay(self, failures: int, rand: float) -> timedelta:
        """`failures` ≥ 1 in the current round; `rand` in [0, 1)."""
        capped = min(self.max_s, self.base_s * 2 ** min(failures - 1, 32))
        return timedelta(seconds=capped * (1 - self.jitter * rand))


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt got: an HTTP status (0: no answer) and an error text."""

    http_status: int
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.http_status < 300


@dataclass(frozen=True)
class Attempt:
    notification_id: uuid.UUID
    number: int
    attempted_at: datetime
    http_status: int
    error: str
    duration_ms: int


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str = field(repr=False)  # never in logs or reprs


@dataclass(frozen=True)
class Notification:
    notification_id: uuid.UUID
    event_id: str
    event_type: str
    kind: Kind
    status: Status
    body: str  # the exact JSON delivered (and signed), fixed when the event is recorded
    created_at: datetime
    partner_id: uuid.UUID | None = None
    reservation_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    target: str = ""
    attempts: int = 0
    round_start: int = 0  # attempt count when the current round began (an operator retry starts one)
    last_error: str = ""
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None

    @classmethod
    def to_partner(
        cls,
        event_id: str,
        event_type: str,
        body: str,
        now: datetime,
        partner_id: uuid.UUID,
        reservation_id: uuid.UUID,
        booking_id: uuid.UUID,
    ) -> Notification:
        return cls(
            uuid.uuid4(),
            event_id,
            event_type,
            Kind.PARTNER_BOOKING_CONFIRMED,
            Status.PENDING,
            body,
            now,
            partner_id,
            reservation_id,
            booking_id,
            next_attempt_at=now,
        )

    @classmethod
    def logged_for_guest(
        cls, event_id: str, event_type: str, body: str, now: datetime, reservation_id: uuid.UUID
    ) -> Notification:
        return cls(
            uuid.uuid4(),
            event_id,
            event_type,
            Kind.RESERVATION_STATUS_CHANGED,
            Status.DELIVERED,
            body,
            now,
            reservation_id=reservation_id,
            target=LOG_TARGET,
            attempts=1,
            delivered_at=now,
        )

    def attempted(
        self, target: str, outcome: Outcome, now: datetime, policy: RetryPolicy, rand: float
    ) -> tuple[Notification, Attempt]:
        """The notification after one more attempt, and the attempt's record."""
        number = self.attempts + 1
        attempt = Attempt(
            self.notification_id, number, now, outcome.http_status, outcome.error[:ERROR_MAX], outcome.duration_ms
        )
        done = replace(self, target=target, attempts=number, next_attempt_at=None)
        if outcome.ok:
            return replace(done, status=Status.DELIVERED, delivered_at=now, last_error=""), attempt
        done = replace(done, last_error=attempt.error)
        failures = number - self.round_start
        if failures >= policy.max_attempts:
            return replace(done, status=Status.FAILED), attempt
        return replace(done, next_attempt_at=now + policy.delay(failures, rand)), attempt

    def postponed(self, until: datetime) -> Notification:
        """Not attempted (we could not learn where to send it): due again `until`, no attempt counted."""
        return replace(self, next_attempt_at=until)

    def skipped(self, reason: str) -> Notification:
        return replace(self, status=Status.SKIPPED, last_error=reason[:ERROR_MAX], next_attempt_at=None)

    def retried(self, now: datetime) -> Notification:
        """An operator's retry: a FAILED notification gets a new round of attempts, due now."""
        if self.status is not Status.FAILED:
            raise FailedPrecondition(
                f"notification {self.notification_id} is {self.status.value}, only a failed one can be retried",
                reason="NOTIFICATION_NOT_FAILED",
                metadata={"status": self.status.value.upper()},
            )
        return replace(self, status=Status.PENDING, round_start=self.attempts, next_attempt_at=now)
