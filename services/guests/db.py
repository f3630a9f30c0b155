"""guests schema: tables, repository, unit of work."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError

from services.chassis.db import UnitOfWork, newest_first
from services.chassis.errors import AlreadyExists
from services.guests.domain import Guest, GuestStatus

metadata = sa.MetaData(schema="guests")

guests = sa.Table(
    "guests",
    metadata,
    sa.Column("guest_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("first_name", sa.String(100), nullable=False),
    sa.Column("last_name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("phone", sa.String(32), nullable=False, server_default=""),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("status", sa.String(20), nullable=False, server_default="active"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'inactive', 'suspended')", name="ck_guests_status"),
    sa.Index("idx_guests_email", "email", unique=True),
    sa.Index("idx_guests_created", "created_at", "guest_id"),
)
# Prefix search on the lower-cased last name; the operator class as postgresql_ops, so the metadata
# test can compare it with the migrated database.
sa.Index(
    "idx_guests_last_name",
    sa.func.lower(guests.c.last_name).label("lower_last_name"),
    postgresql_ops={"lower_last_name": "text_pattern_ops"},
)


def _row(guest: Guest) -> dict:
    return {**guest.__dict__, "status": guest.status.value}


def _guest(row) -> Guest:
    return Guest(**{**row._mapping, "status": GuestStatus(row.status)})


class GuestRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, guest: Guest) -> None:
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(sa.insert(guests).values(_row(guest)))
        except IntegrityError as exc:
            raise AlreadyExists(f"a guest with email {guest.email} exists", reason="GUEST_EMAIL_TAKEN") from exc

    async def get(self, guest_id: uuid.UUID, for_update: bool = False) -> Guest | None:
        query = sa.select(guests).where(guests.c.guest_id == guest_id)
        row = (await self.conn.execute(query.with_for_update() if for_update else query)).first()
        return _guest(row) if row else None

    async def replace(self, guest: Guest) -> None:
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    sa.update(guests).where(guests.c.guest_id == guest.guest_id).values(_row(guest))
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"a guest with email {guest.email} exists", reason="GUEST_EMAIL_TAKEN") from exc

    async def search(
        self, email: str, last_name_prefix: str, status: GuestStatus | None, position, limit: int
    ) -> list[Guest]:
        query = sa.select(guests)
        if email:
            query = query.where(guests.c.email == email)
        if last_name_prefix:
            escaped = last_name_prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(sa.func.lower(guests.c.last_name).like(f"{escaped}%"))
        if status is not None:
            query = query.where(guests.c.status == status.value)
        rows = (
            await self.conn.execute(newest_first(query, guests.c.created_at, guests.c.guest_id, position, limit))
        ).all()
        return [_guest(r) for r in rows]


class GuestUnitOfWork(UnitOfWork):
    guests: GuestRepository

    def bind(self, conn) -> None:
        self.guests = GuestRepository(conn)
