"""Trips, departures and seat holds (pure Python): the rules that keep a departure from overbooking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from services.chassis.errors import FailedPrecondition

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
MAX_CAPACITY = 10_000
MAX_PRICE = Decimal("1e8")  # numeric(10,2) holds 8 integer digits


@dataclass(frozen=True)
class Trip:
    name: str
    price_per_person: Decimal
    currency: str
    created_at: datetime
    description: str = ""
    # The API has no way to create an inactive trip (a proto3 bool cannot say "unset"), so new
    # trips are active; deactivation belongs to a later UpdateTrip with a field mask.
    active: bool = True
    trip_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Departure:
    trip_id: uuid.UUID
    departure_date: date
    capacity: int
    seats_held: int = 0
    departure_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def seats_available(self) -> int:
        return self.capacity - self.seats_held

    def can_hold(self, seats: int) -> bool:
        return seats <= self.seats_available

    def hold(self, already_held: int, wanted: int) -> Departure:
        """The departure once a reservation holding `already_held` seats holds `wanted` instead."""
        delta = wanted - already_held
        if not self.can_hold(delta):
            raise FailedPrecondition(
                f"only {self.seats_available} seats left on {self.departure_date}, {delta} more requested",
                reason="SOLD_OUT",
                metadata={"seats_available": str(self.seats_available)},
            )
        return replace(self, seats_held=self.seats_held + delta)

    def release(self, seats: int) -> Departure:
        return replace(self, seats_held=self.seats_held - seats)


def bookable(trip: Trip) -> None:
    if not trip.active:
        raise FailedPrecondition(f"trip {trip.trip_id} is not offered any more", reason="TRIP_INACTIVE")
