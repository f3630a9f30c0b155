"""Trips and departures, activities, sessions and extras, and the seat holds on departures and sessions
(pure Python): the rules that keep either from overbooking."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Self

from services.chassis.errors import FailedPrecondition

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
MAX_CAPACITY = 10_000
MAX_PRICE = Decimal("1e8")  # numeric(10,2) holds 8 integer digits
CATEGORY_MAX = 100
MAX_SESSION_LENGTH = timedelta(days=31)


class Seats:
    """A capacity of seats and the seats held of it, on a frozen dataclass (a departure, a session)
    with `capacity` and the field `HELD` names: the one rule of holds, whatever holds them."""

    HELD: ClassVar[str]
    capacity: int

    @property
    def held(self) -> int:
        value: int = getattr(self, self.HELD)
        return value

    @property
    def seats_available(self) -> int:
        return self.capacity - self.held

    def where(self) -> str:
        """The place, as a refusal names it."""
        raise NotImplementedError

    def can_hold(self, seats: int) -> bool:
        return seats <= self.seats_available

    def _with_held(self, held: int) -> Self:
        changed: Self = dataclasses.replace(self, **{self.HELD: held})  # type: ignore[type-var]
        return changed

    def hold(self, already_held: int, wanted: int) -> Self:
        """The place once a holder holding `already_held` seats holds `wanted` instead."""
        delta = wanted - already_held
        if not self.can_hold(delta):
            raise FailedPrecondition(
                f"only {self.seats_available} seats left {self.where()}, {delta} more requested",
                reason="SOLD_OUT",
                metadata={"seats_available": str(self.seats_available)},
            )
        return self._with_held(self.held + delta)

    def release(self, seats: int) -> Self:
        return self._with_held(self.held - seats)


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
class Departure(Seats):
    HELD: ClassVar[str] = "seats_held"
    trip_id: uuid.UUID
    departure_date: date
    capacity: int
    seats_held: int = 0
    departure_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def where(self) -> str:
        return f"on {self.departure_date}"


def bookable(trip: Trip) -> None:
    if not trip.active:
        raise FailedPrecondition(f"trip {trip.trip_id} is not offered any more", reason="TRIP_INACTIVE")


@dataclass(frozen=True)
class Activity:
    company_id: uuid.UUID
    name: str
    created_at: datetime
    category: str = ""
    activity_id: uuid.UUID = field(default_factory=uuid.uuid4)


class SessionStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Session(Seats):
    """`booked` seats of `capacity` are held by bookings; holds only while SCHEDULED and not started."""

    HELD: ClassVar[str] = "booked"
    activity_id: uuid.UUID
    company_id: uuid.UUID
    start_time: datetime
    end_time: datetime
    capacity: int
    price: Decimal
    currency: str
    created_at: datetime
    booked: int = 0
    status: SessionStatus = SessionStatus.SCHEDULED
    session_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def where(self) -> str:
        return f"in session {self.session_id}"

    def bookable(self, now: datetime) -> None:
        if self.status is not SessionStatus.SCHEDULED or self.start_time <= now:
            state = self.status.value if self.status is not SessionStatus.SCHEDULED else "STARTED"
            raise FailedPrecondition(
                f"session {self.session_id} takes no holds ({state.lower()})",
                reason="SESSION_NOT_BOOKABLE",
                metadata={"session_id": str(self.session_id), "status": state},
            )

    def finished(self) -> Session:
        return replace(self, status=SessionStatus.FINISHED)


@dataclass(frozen=True)
class Extra:
    activity_id: uuid.UUID
    name: str
    unit_price: Decimal
    currency: str
    created_at: datetime
    extra_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class Hold:
    """What a holder (reservation, booking) holds on a place: `released` is a release's tombstone."""

    seats: int = 0
    released: bool = False


NO_HOLD = Hold()


def not_released(hold: Hold, holder: uuid.UUID) -> None:
    """A booking whose seats were released (or released before it held any) takes none again."""
    if hold.released:
        raise FailedPrecondition(
            f"the seats of booking {holder} were released", reason="HOLD_RELEASED", metadata={"booking_id": str(holder)}
        )


def session_window_refused(start: datetime, end: datetime, now: datetime) -> dict[str, str]:
    """What is wrong with a new session's times, by field (empty: nothing)."""
    refused = {}
    if start <= now:
        refused["start_time"] = "must be in the future"
    if end <= start:
        refused["end_time"] = "must be after start_time"
    elif end - start > MAX_SESSION_LENGTH:
        refused["end_time"] = f"must be at most {MAX_SESSION_LENGTH.days} days after start_time"
    return refused
