"""Validated inputs of the catalog use cases (built by the servicer from protobuf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class CreateTrip:
    name: str
    price_per_person: Decimal
    currency: str
    description: str = ""


@dataclass(frozen=True)
class Slot:
    """One departure, as callers name it: a trip and a date."""

    trip_id: uuid.UUID
    departure_date: date


@dataclass(frozen=True)
class CreateActivity:
    company_id: uuid.UUID
    name: str
    category: str = ""


@dataclass(frozen=True)
class CreateSession:
    activity_id: uuid.UUID
    start_time: datetime
    end_time: datetime
    capacity: int
    price: Decimal
    currency: str


@dataclass(frozen=True)
class CreateExtra:
    activity_id: uuid.UUID
    name: str
    unit_price: Decimal
    currency: str


@dataclass(frozen=True)
class ListSessions:
    """Filters (None: any) and the page: sessions by start time, soonest first."""

    company_id: uuid.UUID | None = None
    activity_id: uuid.UUID | None = None
    start_after: datetime | None = None
    start_before: datetime | None = None


@dataclass(frozen=True)
class HoldSessionSeats:
    session_id: uuid.UUID
    booking_id: uuid.UUID
    seats: int
