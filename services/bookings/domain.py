"""Bookings of sessions: a customer's seat on one session, the extras bought with it, how it is paid,
and its refund request (pure Python).

pending -> confirmed (paid, or a slot attendee to bill) -> cancelled
        -> failed (every step compensated)
confirmed (slot attendee, unpaid) -> confirmed paid | pending_payment -> confirmed paid"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from services.chassis.errors import DeadlineExceeded, DomainError, FailedPrecondition, Unavailable
from services.chassis.money import quantize

# Ids derived from a booking's: the wallet debit of a slot attendee, the refunds of a cancellation.
BOOKING_NAMESPACE = uuid.UUID("0b7f4c1e-5a2d-4e8b-9c36-d1f0a8e2b457")
MAX_EXTRAS = 20
MAX_EXTRA_QUANTITY = 20
REASON_MAX = 500
INTERRUPTED = "BOOKING_INTERRUPTED"


class BookingType(StrEnum):
    STANDARD = "standard"
    SLOT_ATTENDEE = "slot_attendee"


class PaymentMethod(StrEnum):
    PASS = "pass"
    WALLET = "wallet"
    CARD = "card"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PENDING_PAYMENT = "pending_payment"
    CANCELLED = "cancelled"
    FAILED = "failed"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    COMPLETED = "completed"


def derived_id(booking_id: uuid.UUID, purpose: str) -> uuid.UUID:
    """billing: the slot attendee's wallet debit; refund: the wallet refund of a cancellation;
    card:<token>: PayBooking's authorization key (another card is another attempt)."""
    return uuid.uuid5(BOOKING_NAMESPACE, f"{booking_id}:{purpose}")


@dataclass(frozen=True)
class BookingExtra:
    extra_id: uuid.UUID
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class RefundRequest:
    refund_request_id: uuid.UUID
    status: RefundStatus
    amount: Decimal  # money given back: wallet cash + bonus, or the card
    wallet_cash: Decimal
    wallet_bonus: Decimal
    entitlement_restored: bool
    reason: str
    created_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Booking:
    booking_id: uuid.UUID
    session_id: uuid.UUID
    company_id: uuid.UUID
    activity_id: uuid.UUID
    customer_id: uuid.UUID
    user_id: str
    type: BookingType
    status: BookingStatus
    payment_method: PaymentMethod
    payment_status: PaymentStatus
    session_start: datetime
    session_end: datetime
    price: Decimal
    currency: str
    extras: tuple[BookingExtra, ...]
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    entitlement_id: uuid.UUID | None = None
    wallet_cash: Decimal = Decimal(0)
    wallet_bonus: Decimal = Decimal(0)
    authorization_id: str = ""
    failure_reason: str = ""
    refund: RefundRequest | None = None

    @property
    def total(self) -> Decimal:
        extras = sum((e.unit_price * e.quantity for e in self.extras), Decimal(0))
        return quantize(self.price + extras, self.currency)

    @property
    def paid_amount(self) -> Decimal:
        """The money taken: zero for a pass, nothing before it is paid."""
        if self.payment_status is PaymentStatus.UNPAID or self.payment_method is PaymentMethod.PASS:
            return Decimal(0)
        return self.total

    @property
    def wallet_debit_id(self) -> uuid.UUID:
        """The wallet debit's operation id: the booking's own when paid at booking, derived for billing."""
        if self.type is BookingType.SLOT_ATTENDEE:
            return derived_id(self.booking_id, "billing")
        return self.booking_id

    def confirmed(self, now: datetime, wallet: tuple[Decimal, Decimal], authorization_id: str) -> Booking:
        paid = self.type is BookingType.STANDARD
        return replace(
            self,
            status=BookingStatus.CONFIRMED,
            payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
            wallet_cash=wallet[0],
            wallet_bonus=wallet[1],
            authorization_id=authorization_id,
            updated_at=now,
        )

    def failed(self, reason: str, now: datetime) -> Booking:
        return replace(self, status=BookingStatus.FAILED, failure_reason=reason, updated_at=now)

    def cancel(self, reason: str, now: datetime, cutoff_s: int) -> Booking:
        """Under the cancellation policy (docs/bookings.md): a confirmed or pending-payment booking,
        until `cutoff_s` before its session starts; the refund is requested with it."""
        if self.status is BookingStatus.CANCELLED:
            return self
        if self.status not in (BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT):
            raise BookingNotCancellable(self.booking_id, self.status)
        if now > self.session_start - timedelta(seconds=cutoff_s):
            raise CancellationWindowClosed(self.booking_id, self.session_start, cutoff_s)
        paid = self.payment_status is PaymentStatus.PAID
        cash, bonus = (self.wallet_cash, self.wallet_bonus) if paid else (Decimal(0), Decimal(0))
        amount = self.paid_amount
        refund = RefundRequest(
            derived_id(self.booking_id, "refund"), RefundStatus.REQUESTED, amount, cash, bonus, False, reason, now
        )
        return replace(self, status=BookingStatus.CANCELLED, refund=refund, updated_at=now)


def fingerprint_of(*parts: object) -> str:
    """What a second request under the same booking id must repeat to be answered with the first."""
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()


class CancellationWindowClosed(FailedPrecondition):
    def __init__(self, booking_id: uuid.UUID, start: datetime, cutoff_s: int) -> None:
        super().__init__(
            f"booking {booking_id} can be cancelled until {cutoff_s} s before its session starts ({start.isoformat()})",
            reason="CANCELLATION_WINDOW_CLOSED",
            metadata={"booking_id": str(booking_id), "cutoff_s": str(cutoff_s)},
        )


class BookingNotCancellable(FailedPrecondition):
    def __init__(self, booking_id: uuid.UUID, status: BookingStatus) -> None:
        super().__init__(
            f"booking {booking_id} is {status.value}",
            reason="BOOKING_NOT_CANCELLABLE",
            metadata={"booking_id": str(booking_id), "status": status.name},
        )


class PaymentDeclined(FailedPrecondition):
    def __init__(self, decline_reason: str) -> None:
        super().__init__(f"the payment was declined ({decline_reason})", reason="PAYMENT_DECLINED")


class StartedTooLate(FailedPrecondition):
    """A saga recorded so long after its booking was claimed that recovery may have failed it."""

    def __init__(self) -> None:
        super().__init__("the booking was interrupted before it started", reason=INTERRUPTED)


def failure_reason_of(error: BaseException | None) -> str:
    """The failure_reason of a compensated booking: a peer down or too slow is DEPENDENCY_UNAVAILABLE,
    a business refusal keeps its reason (SOLD_OUT, INSUFFICIENT_FUNDS, ENTITLEMENT_EXHAUSTED, ...)."""
    if error is None:
        return INTERRUPTED
    if isinstance(error, Unavailable | DeadlineExceeded):
        return "DEPENDENCY_UNAVAILABLE"
    if isinstance(error, DomainError):
        return error.reason
    return "BOOKING_ERROR"
