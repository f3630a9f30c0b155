"""checkout schema: tables, the statements (built once), repository, unit of work.

DDL lives in the Alembic migration; these Core tables are for queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.chassis.db import UnitOfWork
from services.chassis.money import quantize
from services.chassis.outbox import outbox_table
from services.chassis.saga_store import SagaRows, saga_table
from services.chassis.statements import gated, insert_after, params_of
from services.chassis.typedjson import from_json, to_json
from services.checkout.domain import CartLine, Checkout, CheckoutState

metadata = sa.MetaData(schema="checkout")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)

checkouts = sa.Table(
    "checkouts",
    metadata,
    sa.Column("checkout_id", _uuid, primary_key=True),
    sa.Column("cart_id", _uuid, nullable=False, unique=True),
    sa.Column("guest_id", _uuid, nullable=False),
    sa.Column("lines", JSONB, nullable=False),  # the lines as the cart showed them
    sa.Column("total_amount", sa.Numeric(14, 2), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("fingerprint", sa.CHAR(64), nullable=False),
    sa.Column("order_id", _uuid),
    sa.Column("authorization_id", sa.String(64), nullable=False),
    sa.Column("failure_reason", sa.String(64), nullable=False),
    sa.Column("failure_message", sa.Text, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    # recovery's look for running checkouts claimed before the lease (migration 0002)
    sa.Index("idx_checkouts_running", "created_at", postgresql_where=sa.text("state = 'running'")),
)
sagas = saga_table(metadata)
# a saga names its cart in its state: recovery asks whether a claimed cart has one (migration 0002);
# written as PostgreSQL reflects it, so the metadata test compares it
sa.Index("idx_saga_instances_cart", sa.text("((state -> 'cart'::text) ->> 'cart_id'::text)"), _table=sagas)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
_c = checkouts.c
_SETTLED = ["state", "order_id", "authorization_id", "failure_reason", "failure_message", "updated_at"]
_EVENT = ["id", "subject", "payload", "headers"]


# No saga was recorded for the checkout's cart (the runner keys sagas by its own ids; the state's cart
# id is indexed, migration 0002).
_UNRECORDED = ~sa.exists().where(sagas.c.state["cart"]["cart_id"].astext == sa.cast(_c.cart_id, sa.Text))


def _settle_statement(*only_if: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """A running checkout's end and its event in one statement: the event is written only if the
    checkout was still running (a recovery repeating the end writes nothing) and `only_if` holds."""
    settled = (
        sa.update(checkouts)
        .where(
            _c.checkout_id == sa.bindparam("settle_id", type_=_uuid),
            _c.state == CheckoutState.RUNNING.value,
            *only_if,
        )
        .values({name: sa.bindparam(f"settle_{name}", type_=_c[name].type) for name in _SETTLED})
        .returning(_c.checkout_id)
        .cte("settled")
    )
    return gated(settled, [insert_after(settled, outbox, _EVENT)])


START = (
    pg_insert(checkouts)
    .values({c.key: sa.bindparam(c.key, type_=c.type) for c in checkouts.c})
    .on_conflict_do_nothing()
    .returning(_c.checkout_id)
)
SETTLE = _settle_statement()
# A claimed cart whose saga was never recorded (its process died in between), failed unless the saga
# appeared meanwhile; the candidates, oldest first (partial index of running checkouts).
SETTLE_UNRECORDED = _settle_statement(_UNRECORDED)
UNRECORDED = (
    sa.select(checkouts)
    .where(_c.state == CheckoutState.RUNNING.value, _c.created_at < sa.bindparam("claimed_before", type_=_ts))
    .where(_UNRECORDED)
    .order_by(_c.created_at)
    .limit(sa.bindparam("at_most", type_=sa.Integer))
)
GET = sa.select(checkouts).where(_c.checkout_id == sa.bindparam("wanted", type_=_uuid))
NOTE = (
    sa.update(checkouts)
    .where(_c.checkout_id == sa.bindparam("noted", type_=_uuid), _c.state == CheckoutState.RUNNING.value)
    .values(failure_reason=sa.bindparam("note_reason"), failure_message=sa.bindparam("note_message"))
)
# Only while no saga names the cart: a saga insert that committed but whose answer was lost keeps its
# checkout, which that saga's recovery then ends (a retry must not reuse the checkout id meanwhile).
ABANDON = (
    sa.delete(checkouts)
    .where(_c.checkout_id == sa.bindparam("abandoned", type_=_uuid), _c.state == CheckoutState.RUNNING.value)
    .where(_UNRECORDED)
    .returning(_c.checkout_id)
)


def _row(c: Checkout) -> dict[str, Any]:
    row = {col.key: getattr(c, col.key, None) for col in checkouts.c}
    lines = [{k: v for k, v in to_json(line).items() if k != "currency"} for line in c.lines]
    return row | {"lines": lines, "total_amount": c.total, "state": c.state.value}


def _checkout(row: Any) -> Checkout:
    currency = row.currency
    lines = tuple(from_json(CartLine, {**line, "currency": currency}) for line in row.lines)
    return Checkout(
        row.checkout_id,
        row.cart_id,
        row.guest_id,
        lines,
        quantize(row.total_amount, currency),
        currency,
        CheckoutState(row.state),
        row.fingerprint,
        row.created_at,
        row.updated_at,
        row.order_id,
        row.authorization_id,
        row.failure_reason,
        row.failure_message,
    )


class CheckoutRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def start(self, c: Checkout) -> bool:
        """Claims the cart (one statement); False when it was checked out before (nothing written)."""
        return (await self.conn.execute(START, _row(c))).first() is not None

    async def get(self, checkout_id: uuid.UUID) -> Checkout | None:
        row = (await self.conn.execute(GET, {"wanted": checkout_id})).first()
        return _checkout(row) if row else None

    async def settle(self, c: Checkout, event: dict[str, Any], unrecorded: bool = False) -> bool:
        """Writes a running checkout's end with its event; False when it had ended already (or, with
        `unrecorded`, when its saga is recorded after all)."""
        row = _row(c)
        params = {"settle_id": c.checkout_id, **{f"settle_{n}": row[n] for n in _SETTLED}, **params_of(outbox, event)}
        return (await self.conn.execute(SETTLE_UNRECORDED if unrecorded else SETTLE, params)).first() is not None

    async def unrecorded(self, claimed_before: datetime, at_most: int) -> list[Checkout]:
        """Running checkouts claimed before `claimed_before` with no saga recorded, oldest first."""
        rows = await self.conn.execute(UNRECORDED, {"claimed_before": claimed_before, "at_most": at_most})
        return [_checkout(row) for row in rows]

    async def note_failure(self, checkout_id: uuid.UUID, reason: str, message: str) -> None:
        """Why a running checkout is being compensated (it stays running until it is)."""
        await self.conn.execute(NOTE, {"noted": checkout_id, "note_reason": reason, "note_message": message})

    async def abandon(self, checkout_id: uuid.UUID) -> bool:
        """Frees a cart whose saga could not even be recorded (nothing ran); False when a saga was
        recorded after all (its answer lost): the checkout stays for that saga's recovery."""
        return (await self.conn.execute(ABANDON, {"abandoned": checkout_id})).first() is not None


class CheckoutUnitOfWork(UnitOfWork):
    checkouts: CheckoutRepository
    sagas: SagaRows

    def bind(self, conn: Any) -> None:
        self.checkouts = CheckoutRepository(conn)
        self.sagas = SagaRows(conn, sagas)  # the completion rides in the checkout's end
