"""The reservations repository and unit of work over the tables and statements of db.py."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import UnitOfWork, newest_first
from services.chassis.statements import params_of
from services.reservations.db import (
    APPLY,
    CREATE,
    ENSURE_PARTITION_FOR,
    FINGERPRINT,
    GET,
    GET_FOR_UPDATE,
    create_params,
    due_now,
    history_row,
    keys,
    outbox,
    participants,
    queued_release,
    reservations,
    seat_releases,
    status_history,
    through_key,
)
from services.reservations.domain import Participant, Reservation, Status, StatusChange
from services.reservations.ports import CodeCollision, DuplicateRequest


def _no_partition(exc: sa.exc.IntegrityError) -> bool:
    """The insert's row has no partition to go to (check_violation; PostgreSQL says which)."""
    return getattr(exc.orig, "sqlstate", None) == "23514" and "no partition" in str(exc.orig)


def _reservation(row) -> Reservation:
    values = {col.key: row._mapping[col] for col in reservations.c}
    return Reservation(**{**values, "status": Status(values["status"])})


class ReservationRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def create(
        self, r: Reservation, fingerprint: str, lead: Participant, first: StatusChange, event: dict
    ) -> None:
        """The reservation with its key, lead participant, first status, event, and the withdrawal of
        its announced seat release, as one statement: atomic by itself, so one round trip and no
        BEGIN/COMMIT. Every write after the key's is made from the key's RETURNING row, so a key that
        exists already (ON CONFLICT DO NOTHING: a concurrent twin is waited for) writes nothing.
        Runs on an autocommit connection: refused for want of its month's partition, it creates the
        partition and runs again (there is no default partition: migration 0005)."""
        params = create_params(r, fingerprint, lead, first, event)
        try:
            created = (await self.conn.execute(CREATE, params)).first()
        except sa.exc.IntegrityError as exc:
            if not _no_partition(exc):
                raise
            await self.conn.execute(ENSURE_PARTITION_FOR, {"ts": r.created_at})
            created = (await self.conn.execute(CREATE, params)).first()
        if created is None:
            twin = await self.conn.scalar(
                sa.select(keys.c.reservation_id).where(keys.c.reservation_id == r.reservation_id)
            )
            raise DuplicateRequest() if twin else CodeCollision()

    async def get(self, reservation_id: uuid.UUID, for_update: bool = False) -> Reservation | None:
        row = (await self.conn.execute(GET_FOR_UPDATE if for_update else GET, {"wanted": reservation_id})).first()
        return _reservation(row) if row else None

    async def by_code(self, code: str) -> Reservation | None:
        which = keys.c.confirmation_code == code
        query = through_key(which, sa.select(keys.c.reservation_id).where(which).scalar_subquery())
        row = (await self.conn.execute(query)).first()
        return _reservation(row) if row else None

    async def fingerprint(self, reservation_id: uuid.UUID) -> str | None:
        return (await self.conn.execute(FINGERPRINT, {"wanted": reservation_id})).scalar()

    async def save(self, r: Reservation) -> None:
        values = {
            "status": r.status.value,
            "trip_date": r.trip_date,
            "party_size": r.party_size,
            "total_amount": r.total_amount,
            "rev": r.rev,
            "updated_at": r.updated_at,
        }
        where = sa.and_(reservations.c.reservation_id == r.reservation_id, reservations.c.created_at == r.created_at)
        await self.conn.execute(sa.update(reservations).where(where).values(values))

    async def apply(self, change: StatusChange, event: dict, release_day: date | None) -> bool:
        """Writes a status change read at revision `change.reservation.rev - 1` (one statement);
        False when the reservation changed since (nothing is written). `release_day`: queue the
        release of the seats held on that day (a cancel)."""
        r = change.reservation
        params = {
            "apply_id": r.reservation_id,
            "apply_created": r.created_at,
            "apply_read_rev": r.rev - 1,
            "apply_status": r.status.value,
            "apply_rev": r.rev,
            "apply_updated": r.updated_at,
            **params_of(status_history, history_row(change)),
            **params_of(outbox, event),
        }
        if release_day is not None:
            params |= params_of(seat_releases, queued_release(r.reservation_id, release_day, r.trip_id, r.updated_at))
        return (await self.conn.execute(APPLY[release_day is not None], params)).first() is not None

    async def history(self, reservation_id: uuid.UUID) -> list:
        query = sa.select(status_history).where(status_history.c.reservation_id == reservation_id)
        return (await self.conn.execute(query.order_by(status_history.c.changed_at))).all()

    async def participants(self, reservation_id: uuid.UUID) -> list[Participant]:
        query = (
            sa.select(participants)
            .where(participants.c.reservation_id == reservation_id)
            .order_by(participants.c.created_at)
        )
        return [Participant(**row._mapping) for row in await self.conn.execute(query)]

    async def add_participant(self, p: Participant) -> None:
        await self.conn.execute(sa.insert(participants).values(p.__dict__))

    async def search(self, filters: dict, position: list | None, limit: int) -> list[Reservation]:
        c, query = reservations.c, sa.select(reservations)
        for name in ("guest_id", "trip_id", "status"):
            if filters.get(name):
                query = query.where(c[name] == filters[name])
        if filters.get("date_from"):
            query = query.where(c.trip_date >= filters["date_from"])
        if filters.get("date_to"):
            query = query.where(c.trip_date <= filters["date_to"])
        rows = await self.conn.execute(newest_first(query, c.created_at, c.reservation_id, position, limit))
        return [_reservation(r) for r in rows]

    async def move(self, r: Reservation, moved_from: date) -> None:
        """Saves a re-dated reservation: the new day's hold is the reservation's now (its announced
        release is withdrawn) and the old day's is queued for release, in the caller's transaction."""
        await self.save(r)
        t = seat_releases
        await self.conn.execute(
            sa.delete(t).where(t.c.reservation_id == r.reservation_id, t.c.trip_date == r.trip_date)
        )
        row = queued_release(r.reservation_id, moved_from, r.trip_id, r.updated_at)
        await self.conn.execute(due_now(pg_insert(t).values(row)))


class ReservationUnitOfWork(UnitOfWork):
    reservations: ReservationRepository

    def bind(self, conn) -> None:
        self.reservations = ReservationRepository(conn)
