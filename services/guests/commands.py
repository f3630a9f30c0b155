"""Validated inputs of the guest use cases (built by the servicer from protobuf)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.guests.domain import GuestStatus


@dataclass(frozen=True)
class CreateGuest:
    first_name: str
    last_name: str
    email: str
    phone: str = ""
    date_of_birth: date | None = None


@dataclass(frozen=True)
class SearchGuests:
    email: str
    last_name_prefix: str
    status: GuestStatus | None
    position: list | None
    limit: int
