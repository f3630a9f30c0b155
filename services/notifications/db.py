"""notifications schema: tables, repository, unit of work. DDL lives in migrations/versions/0001_notifications.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.chassis.db import UnitOfWork, newest_first
from services.notifications.domain import Attempt, Kind, Notification, Status

metadata = sa.MetaData(schema="notifications")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("notification_id", _uuid, primary_key=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("partner_id", _uuid),
    sa.Column("reservation_id", _uuid),
    sa.Column("booking_id", _uuid),
    sa.Column("target", sa.String(2000), nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("round_start", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
    sa.Column("delivered_at", _ts),
    sa.Column("next_attempt_at", _ts),
    sa.Index("idx_notifications_created", "created_at", "notification_id"),
    sa.Index("idx_notifications_partner", "partner_id", "created_at"),
    sa.Index("idx_notifications_reservation", "reservation_id"),
    # the delivery worker's queue: only pending rows, by due time
    sa.Index("idx_notifications_due", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
)
attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("notification_id", _uuid, sa.ForeignKey(notifications.c.notification_id), primary_key=True),
    sa.Column("attempt_number", sa.Integer, primary_key=True, key="number"),
    sa.Column("attempted_at", _ts, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=False),
    sa.Column("error", sa.String(500), nullable=False, server_default=""),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)
inbox = inbox_table(metadata)


def _row(n: Notification) -> dict:
    return {**n.__dict__, "kind": n.kind.value, "status": n.status.value}


def _notification(row) -> Notification:
    m = dict(row._mapping)
    return Notification(**{**m, "kind": Kind(m["kind"]), "status": Status(m["status"])})


class NotificationRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, n: Notification, first_attempt: Attempt | None = None) -> bool:
        """False when the event already has its notification (the inbox normally stops that first)."""
        stmt = pg_insert(notifications).values(_row(n)).on_conflict_do_nothing(index_elements=["event_id"])
        added = (await self.conn.execute(stmt.returning(notifications.c.notification_id))).first() is not None
        if added and first_attempt is not None:
            await self.add_attempt(first_attempt)
        return added

    async def get(self, notification_id: uuid.UUID, for_update: bool = False) -> Notification | None:
        query = sa.select(notifications).where(notifications.c.notification_id == notification_id)
        row = (await self.conn.execute(query.with_for_update() if for_update else query)).first()
        return _notification(row) if row else None

    async def save(self, n: Notification) -> None:
        await self.conn.execute(
            sa.update(notifications).where(notifications.c.notification_id == n.notification_id).values(_row(n))
        )

    async def add_attempt(self, a: Attempt) -> None:
        await self.conn.execute(sa.insert(attempts).values(a.__dict__))

    async def attempts_of(self, notification_id: uuid.UUID) -> list[Attempt]:
        query = sa.select(attempts).where(attempts.c.notification_id == notification_id).order_by(attempts.c.number)
        return [Attempt(**{col.key: row._mapping[col] for col in attempts.c}) for row in await self.conn.execute(query)]

    async def search(self, filters: dict, position: list | None, limit: int) -> list[Notification]:
        c, query = notifications.c, sa.select(notifications)
        for name, value in filters.items():
            if value:
                query = query.where(c[name] == value)
        rows = await self.conn.execute(newest_first(query, c.created_at, c.notification_id, position, limit))
        return [_notification(r) for r in rows]

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Notification]:
        """Due PENDING notifications, leased to this worker: their next attempt moves `lease` ahead, so
        another replica skips them, and they come back by themselves if this process dies mid-way."""
        c = notifications.c
        due = (
            sa.select(c.notification_id)
            .where(c.status == Status.PENDING.value, c.next_attempt_at <= now)
            .order_by(c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(notifications)
            .where(c.notification_id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + lease)
            .returning(*notifications.c)
        )
        return [_notification(r) for r in await self.conn.execute(stmt)]

    async def next_due(self) -> datetime | None:
        c = notifications.c
        return (
            await self.conn.execute(sa.select(sa.func.min(c.next_attempt_at)).where(c.status == Status.PENDING.value))
        ).scalar()


class NotificationUnitOfWork(UnitOfWork):
    """Also runs `after_commit` callbacks (waking the delivery worker) once the transaction committed."""

    notifications: NotificationRepository

    def bind(self, conn) -> None:
        self.notifications = NotificationRepository(conn)
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await super().__aexit__(exc_type, exc, tb)
        if exc_type is None:
            for callback in self._after_commit:
                callback()
