"""The Booking Saga's state: typed, frozen, persisted as JSON by the chassis runner."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.bookings.domain import Booking
from services.chassis.saga import SagaState


@dataclass(frozen=True)
class BookingSagaState(SagaState):
    booking: Booking  # as snapshotted when claimed (pending)
    method_reference: str = ""  # CARD: the token the authorization needs after a crash
    # learnt by take_payment
    wallet_cash: Decimal = Decimal(0)
    wallet_bonus: Decimal = Decimal(0)
    authorization_id: str = ""
