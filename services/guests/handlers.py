"""Guest use cases: (command, uow) -> result."""

from __future__ import annotations

import uuid
from typing import Any

from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.guests.commands import CreateGuest, SearchGuests
from services.guests.domain import Guest, IdentityClaim, Ineligibility, ineligibility, normalize_email

UowFactory = UnitOfWorkFactory[Any]  # GuestUnitOfWork in production, an in-memory fake in unit tests


async def create_guest(cmd: CreateGuest, uow_factory: UowFactory) -> Guest:
    now = utcnow()
    guest = Guest(
        cmd.first_name.strip(),
        cmd.last_name.strip(),
        normalize_email(cmd.email),
        now,
        now,
        cmd.phone.strip(),
        cmd.date_of_birth,
    )
    async with uow_factory() as uow:
        await uow.guests.add(guest)
    return guest


async def get_guest(guest_id: uuid.UUID, uow_factory: UowFactory) -> Guest:
    async with uow_factory(read_only=True) as uow:
        guest = await uow.guests.get(guest_id)
    if guest is None:
        raise NotFound(f"guest {guest_id} not found", reason="GUEST_NOT_FOUND")
    return guest


async def update_guest(guest_id: uuid.UUID, changes: dict, uow_factory: UowFactory) -> Guest:
    async with uow_factory() as uow:
        guest = await uow.guests.get(guest_id, for_update=True)
        if guest is None:
            raise NotFound(f"guest {guest_id} not found", reason="GUEST_NOT_FOUND")
        updated = guest.with_changes(changes, utcnow())
        await uow.guests.replace(updated)
    return updated


async def search_guests(q: SearchGuests, uow_factory: UowFactory) -> tuple[list[Guest], list | None]:
    async with uow_factory(read_only=True) as uow:
        rows = await uow.guests.search(
            normalize_email(q.email), q.last_name_prefix.strip(), q.status, q.position, q.limit
        )
    return page_of(rows, q.limit, lambda g: [g.created_at.isoformat(), str(g.guest_id)])


async def validate_guest(guest_id: uuid.UUID, claim: IdentityClaim, uow_factory: UowFactory) -> list[Ineligibility]:
    async with uow_factory(read_only=True) as uow:
        guest = await uow.guests.get(guest_id)
    return ineligibility(guest, claim)
