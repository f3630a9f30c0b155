"""Seat holds on any place with a capacity — a departure held by reservations, a session held by
bookings — as SQL built once per kind of place: the first hold as one statement, and the hold rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.catalog.domain import NO_HOLD, Hold


@dataclass(frozen=True)
class HeldPlaces:
    """A table of places with a `capacity` and a counter of seats held (`held`), and the table of
    holds on them, keyed by (`place_id`, `holder`); `released` is the column of a release's
    tombstone when releases leave one (their rows stay, with 0 seats)."""

    places: sa.Table
    place_id: str
    held: str
    holds: sa.Table
    holder: str
    released: str | None = None


def first_hold(spec: HeldPlaces, conditions: list[sa.ColumnElement[bool]]) -> tuple[sa.CTE, sa.CTE]:
    """The common hold — a holder's first on the place `conditions` name, that fits — as two
    data-modifying CTEs of one statement: `taken`, the conditional UPDATE of the counter (the row
    lock lasts one statement, so holds never overbook however many race), and `hold`, the hold row
    written from it. A holder that already has a row (a hold, a tombstone) takes nothing; one whose
    concurrent first hold won fails the statement on the hold row's key. Parameters `hold_holder`,
    `hold_seats`, `hold_now`: named like no column, since an UPDATE would take those as values to SET."""
    p, h = spec.places, spec.holds
    holder = sa.bindparam("hold_holder", type_=h.c[spec.holder].type)
    seats = sa.bindparam("hold_seats", type_=sa.Integer)
    now = sa.bindparam("hold_now", type_=h.c.created_at.type)
    place = p.c[spec.place_id]
    already = sa.exists().where(h.c[spec.place_id] == place, h.c[spec.holder] == holder)
    fits = sa.and_(*conditions, p.c[spec.held] + seats <= p.c.capacity, ~already)
    taken = sa.update(p).where(fits).values({spec.held: p.c[spec.held] + seats}).returning(*p.c).cte("taken")
    columns = [h.c[spec.place_id], h.c[spec.holder], h.c.seats, h.c.created_at, h.c.updated_at]
    hold = sa.insert(h).from_select(columns, sa.select(taken.c[spec.place_id], holder, seats, now, now))
    return taken, hold.cte("hold")


class HoldStatements:
    """The statements of one kind of hold rows, built once (at import), run with parameters."""

    def __init__(self, spec: HeldPlaces) -> None:
        h, self.spec = spec.holds, spec
        key = sa.and_(h.c[spec.place_id] == sa.bindparam("k_place"), h.c[spec.holder] == sa.bindparam("k_holder"))
        released = h.c[spec.released] if spec.released else sa.false()
        self.get = sa.select(h.c.seats, released.label("released")).where(key)
        values: dict[str, Any] = {spec.place_id: sa.bindparam("k_place"), spec.holder: sa.bindparam("k_holder")}
        now: sa.BindParameter[Any] = sa.bindparam("k_now")
        seats: sa.BindParameter[Any] = sa.bindparam("k_seats")
        self.put = (
            insert(h)
            .values(values | {"seats": seats, "created_at": now, "updated_at": now})
            .on_conflict_do_update(
                index_elements=[spec.place_id, spec.holder], set_={"seats": seats, "updated_at": now}
            )
        )
        self.delete = sa.delete(h).where(key).returning(h.c.seats)
        self.tombstone: sa.Select | None = None
        if spec.released:
            # Under the place's row lock (every write of a hold row takes it first): the seats held
            # before, and the row left as a tombstone whether or not the holder held any.
            old = sa.select(h.c.seats).where(key).cte("old")
            mark = (
                insert(h)
                .values(values | {"seats": 0, "created_at": now, "updated_at": now, spec.released: now})
                .on_conflict_do_update(
                    index_elements=[spec.place_id, spec.holder],
                    set_={"seats": 0, "updated_at": now, spec.released: sa.func.coalesce(h.c[spec.released], now)},
                )
            )
            held = sa.func.coalesce(sa.select(old.c.seats).scalar_subquery(), 0)
            self.tombstone = sa.select(held).add_cte(old, mark.cte("mark"))


class HoldRows:
    """The holds of one kind of place, on a unit of work's connection."""

    def __init__(self, conn, statements: HoldStatements) -> None:
        self.conn, self.q = conn, statements

    async def held(self, place_id: uuid.UUID, holder: uuid.UUID) -> Hold:
        row = (await self.conn.execute(self.q.get, {"k_place": place_id, "k_holder": holder})).first()
        return Hold(row.seats, row.released) if row else NO_HOLD

    async def seats(self, place_id: uuid.UUID, holder: uuid.UUID) -> int:
        """Seats the holder holds on the place, 0 when it holds none."""
        return (await self.held(place_id, holder)).seats

    async def put(self, place_id: uuid.UUID, holder: uuid.UUID, seats: int, now: datetime) -> None:
        params = {"k_place": place_id, "k_holder": holder, "k_seats": seats, "k_now": now}
        await self.conn.execute(self.q.put, params)

    async def delete(self, place_id: uuid.UUID, holder: uuid.UUID) -> int:
        """Removes the hold; returns the seats it held (0 when there was none)."""
        return (await self.conn.execute(self.q.delete, {"k_place": place_id, "k_holder": holder})).scalar() or 0

    async def tombstone(self, place_id: uuid.UUID, holder: uuid.UUID, now: datetime) -> int:
        """Leaves the holder a released row (held or not); returns the seats it held. Run under the
        place's row lock."""
        assert self.q.tombstone is not None, "these holds leave no tombstones"
        params = {"k_place": place_id, "k_holder": holder, "k_now": now}
        return (await self.conn.execute(self.q.tombstone, params)).scalar_one()
