"""Validated inputs of the catalog use cases (built by the servicer from protobuf)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
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
