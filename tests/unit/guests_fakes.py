"""In-memory fakes of the guest-profiles ports: its unit of work and guest repository."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from services.chassis.errors import AlreadyExists
from services.guests.domain import Guest, GuestStatus
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class GuestStore:
    guests: dict[uuid.UUID, Guest] = field(default_factory=dict)


class FakeGuestRepository:
    """Behaves like services.guests.db.GuestRepository, unique email index included."""

    def __init__(self, store: GuestStore) -> None:
        self.s = store

    def _refuse_taken_email(self, guest: Guest) -> None:
        if any(g.email == guest.email and g.guest_id != guest.guest_id for g in self.s.guests.values()):
            raise AlreadyExists(f"a guest with email {guest.email} exists", reason="GUEST_EMAIL_TAKEN")

    async def add(self, guest: Guest) -> None:
        self._refuse_taken_email(guest)
        self.s.guests[guest.guest_id] = guest

    async def get(self, guest_id: uuid.UUID, for_update: bool = False) -> Guest | None:
        return self.s.guests.get(guest_id)

    async def replace(self, guest: Guest) -> None:
        self._refuse_taken_email(guest)
        if guest.guest_id in self.s.guests:  # an UPDATE of no row changes nothing
            self.s.guests[guest.guest_id] = guest

    async def search(
        self, email: str, last_name_prefix: str, status: GuestStatus | None, position, limit: int
    ) -> list[Guest]:
        found = [
            g
            for g in self.s.guests.values()
            if (not email or g.email == email)
            and g.last_name.lower().startswith(last_name_prefix.lower())
            and (status is None or g.status is status)
        ]
        return newest_first(found, lambda g: g.created_at, lambda g: g.guest_id, position, limit)


class FakeGuestUnitOfWork(FakeUnitOfWork):
    def bind(self, store: GuestStore) -> None:
        self.guests = FakeGuestRepository(store)
