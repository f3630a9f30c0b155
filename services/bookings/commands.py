"""The validated inputs of the bookings use cases (pure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.bookings.domain import BookingType, PaymentMethod


@dataclass(frozen=True)
class ExtraLine:
    extra_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class Who:
    """Who books: a customer id (mesh callers), a platform user (client surface), or a guest to register."""

    customer_id: uuid.UUID | None = None
    user_id: str = ""
    email: str = ""
    full_name: str = ""


@dataclass(frozen=True)
class CreateBooking:
    booking_id: uuid.UUID
    company_id: uuid.UUID
    session_id: uuid.UUID
    who: Who
    type: BookingType
    extras: tuple[ExtraLine, ...]
    method: PaymentMethod
    entitlement_id: uuid.UUID | None = None
    method_reference: str = ""  # a card token (never a card number)


@dataclass(frozen=True)
class CancelBooking:
    booking_id: uuid.UUID
    user_id: str  # "" : any (mesh callers)
    reason: str


@dataclass(frozen=True)
class PayBooking:
    booking_id: uuid.UUID
    user_id: str
    method_reference: str


@dataclass(frozen=True)
class ListBookings:
    """The caller's bookings (user_id), of one session or company when given, newest session first."""

    user_id: str
    session_id: uuid.UUID | None
    company_id: uuid.UUID | None
    page_size: int
    page_token: str
