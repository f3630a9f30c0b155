"""Payments, checkout authorizations and commission payouts: values, idempotency rules, the
authorization and payout state machines (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, key_reused

REVERSAL_REASON_MAX = 500


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"


class PayoutStatus(StrEnum):
    OWED = "owed"
    REVERSED = "reversed"


@dataclass(frozen=True)
class ChargeRequest:
    """ProcessPayment, validated. `request_id` is the idempotency key, here and at the processor."""

    request_id: uuid.UUID
    reservation_id: uuid.UUID
    amount: Decimal
    currency: str
    method_reference: str


@dataclass(frozen=True)
class Charge:
    """The processor's answer to a charge or an authorization: a decline is an answer too, with its reason."""

    succeeded: bool
    processor_reference: str
    decline_reason: str = ""


@dataclass(frozen=True)
class Payment:
    payment_id: uuid.UUID
    request: ChargeRequest
    status: PaymentStatus
    processor_reference: str
    decline_reason: str
    created_at: datetime

    @classmethod
    def processed(cls, request: ChargeRequest, charge: Charge, now: datetime) -> Payment:
        status = PaymentStatus.SUCCEEDED if charge.succeeded else PaymentStatus.DECLINED
        return cls(uuid.uuid4(), request, status, charge.processor_reference, charge.decline_reason, now)

    def answering(self, request: ChargeRequest) -> Payment:
        """This payment as the answer to a retry of `request`; another request under the same key is refused."""
        if request != self.request:
            raise key_reused("request_id", request.request_id)
        return self


@dataclass(frozen=True)
class CommissionClaim:
    """ProcessCommission, validated. `commission_record_id` is the idempotency key."""

    commission_record_id: uuid.UUID
    partner_id: uuid.UUID
    partner_booking_id: uuid.UUID
    reservation_id: uuid.UUID
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class CommissionPayout:
    """One per commission record. A payout without a claim is a tombstone: the record was reversed
    before its commission was processed (see `tombstone`)."""

    payout_id: uuid.UUID
    commission_record_id: uuid.UUID
    status: PayoutStatus
    created_at: datetime
    claim: CommissionClaim | None = None
    reversal_reason: str = ""
    reversed_at: datetime | None = None

    @property
    def is_tombstone(self) -> bool:
        return self.claim is None

    @classmethod
    def owed(cls, claim: CommissionClaim, now: datetime) -> CommissionPayout:
        return cls(uuid.uuid4(), claim.commission_record_id, PayoutStatus.OWED, now, claim)

    @classmethod
    def tombstone(cls, commission_record_id: uuid.UUID, reason: str, now: datetime) -> CommissionPayout:
        """A compensation (ReverseCommission) can overtake the call it undoes (ProcessCommission was
        slow or retried). The tombstone remembers the reversal, so the late ProcessCommission
        records the payout as reversed instead of leaving money owed for a cancelled booking."""
        return cls(uuid.uuid4(), commission_record_id, PayoutStatus.REVERSED, now, None, reason, now)

    def claimed_by(self, claim: CommissionClaim, now: datetime) -> CommissionPayout:
        """The stored payout answering `claim`: a tombstone takes the claim's details but stays reversed."""
        if self.is_tombstone:
            return replace(self, claim=claim, created_at=now)
        if claim != self.claim:
            raise key_reused("commission_record_id", claim.commission_record_id)
        return self

    def reversed(self, reason: str, now: datetime) -> CommissionPayout:
        """Idempotent: a reversed payout (or tombstone) stays as it was first reversed."""
        if self.status is PayoutStatus.REVERSED:
            return self
        return replace(self, status=PayoutStatus.REVERSED, reversal_reason=reason, reversed_at=now)


class AuthorizationStatus(StrEnum):
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class AuthorizationRequest:
    """AuthorizePayment, validated. `checkout_id` is the idempotency key, here and at the processor."""

    checkout_id: uuid.UUID
    guest_id: uuid.UUID
    amount: Decimal
    currency: str
    method_reference: str


# What undoing an authorization leaves: a hold is voided, a capture refunded.
_CANCELLED = {
    AuthorizationStatus.AUTHORIZED: AuthorizationStatus.VOIDED,
    AuthorizationStatus.CAPTURED: AuthorizationStatus.REFUNDED,
}


@dataclass(frozen=True)
class Authorization:
    """authorized -> captured -> refunded; authorized -> voided; declined, voided, refunded are final."""

    authorization_id: uuid.UUID
    request: AuthorizationRequest
    status: AuthorizationStatus
    processor_reference: str
    decline_reason: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def answered(cls, request: AuthorizationRequest, answer: Charge, now: datetime) -> Authorization:
        status = AuthorizationStatus.AUTHORIZED if answer.succeeded else AuthorizationStatus.DECLINED
        return cls(uuid.uuid4(), request, status, answer.processor_reference, answer.decline_reason, now, now)

    def answering(self, request: AuthorizationRequest) -> Authorization:
        """This authorization as the answer to a retry of `request`; another body under the key is refused."""
        if request != self.request:
            raise key_reused("checkout_id", request.checkout_id)
        return self

    def captured(self, now: datetime) -> Authorization:
        """Idempotent: a captured authorization stays as it was captured."""
        if self.status is AuthorizationStatus.CAPTURED:
            return self
        if self.status is not AuthorizationStatus.AUTHORIZED:
            raise FailedPrecondition(
                f"authorization {self.authorization_id} is {self.status.value}, not capturable",
                reason="AUTHORIZATION_NOT_CAPTURABLE",
                metadata={"authorization_id": str(self.authorization_id), "status": self.status.value},
            )
        return replace(self, status=AuthorizationStatus.CAPTURED, updated_at=now)

    def cancelled(self, now: datetime) -> Authorization:
        """Voided if held, refunded if captured; a declined, voided or refunded one stays as it is."""
        after = _CANCELLED.get(self.status)
        return replace(self, status=after, updated_at=now) if after else self
