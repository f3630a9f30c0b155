"""orders schema: tables, the statements (built once), repository, unit of work.

DDL lives in the Alembic migration; these Core tables are for queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSON, UUID, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import UnitOfWork, newest_first_pages, page_params
from services.chassis.money import quantize
from services.chassis.outbox import outbox_table
from services.chassis.statements import gated, insert_after, params_of
from services.orders.domain import Order, OrderItem, OrderStatus, StatusChange

metadata = sa.MetaData(schema="orders")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", _uuid, primary_key=True),
    # NULL only on a tombstone (migration 0002: an order cancelled before it was placed)
    sa.Column("checkout_id", _uuid, unique=True),
    sa.Column("guest_id", _uuid),
    sa.Column("total_amount", sa.Numeric(14, 2)),
    sa.Column("currency", sa.CHAR(3)),
    sa.Column("authorization_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("_rev", sa.Integer, nullable=False, key="rev"),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.Index("idx_orders_guest_created", "guest_id", "created_at", "order_id"),
)
order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("order_id", _uuid, sa.ForeignKey(orders.c.order_id), primary_key=True),
    sa.Column("line", sa.SmallInteger, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.UniqueConstraint("order_id", "sku", name="uq_order_items_sku"),
)
history = sa.Table(
    "order_status_history",
    metadata,
    sa.Column("order_id", _uuid, sa.ForeignKey(orders.c.order_id), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("old_status", sa.String(16)),
    sa.Column("new_status", sa.String(16), nullable=False),
    sa.Column("changed_by", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("changed_at", _ts, nullable=False),
)
outbox = outbox_table(metadata)
_EVENT = ["id", "subject", "payload", "headers"]
TOMBSTONE = "tombstone"  # the status of an order id cancelled before it was placed (migration 0002)
_ITEM_COLUMNS = ["line", "sku", "name", "unit_price", "quantity"]


def _create_statement() -> sa.Select:
    """The order, its items, its first history row and OrderCreated as one statement, every write
    after the order's made from its `INSERT … ON CONFLICT DO NOTHING` RETURNING: an order that
    exists (a retry, a concurrent twin, which is waited for) writes nothing."""
    row = {c.key: sa.bindparam(f"orders_{c.key}", type_=c.type) for c in orders.c}
    new = pg_insert(orders).values(row).on_conflict_do_nothing().returning(orders.c.order_id).cte("new_order")
    arrays = [sa.bindparam(f"items_{name}", type_=ARRAY(order_items.c[name].type)) for name in _ITEM_COLUMNS]
    lines = sa.func.unnest(*arrays).table_valued(*_ITEM_COLUMNS).render_derived(name="lines")
    items = sa.insert(order_items).from_select(
        ["order_id", *_ITEM_COLUMNS],
        sa.select(new.c.order_id, *(lines.c[n] for n in _ITEM_COLUMNS)).join_from(new, lines, sa.true()),
    )
    return gated(
        new, [items, insert_after(new, history, [c.key for c in history.c]), insert_after(new, outbox, _EVENT)]
    )


def _apply_statement() -> sa.Select:
    """A status change: the order's row changes only if still at the revision it was read at; its
    history row and event are written from the UPDATE's RETURNING, so all or nothing is."""
    bp = sa.bindparam  # parameter names are no column's: an UPDATE would SET them
    changed = (
        sa.update(orders)
        .where(orders.c.order_id == bp("apply_id", type_=_uuid), orders.c.rev == bp("apply_read_rev", type_=sa.Integer))
        .values(
            status=bp("apply_status", type_=sa.String),
            rev=bp("apply_rev", type_=sa.Integer),
            updated_at=bp("apply_updated", type_=_ts),
        )
        .returning(orders.c.order_id)
        .cte("changed")
    )
    return gated(
        changed, [insert_after(changed, history, [c.key for c in history.c]), insert_after(changed, outbox, _EVENT)]
    )


def _json_of(table: sa.Table, order_by: sa.Column, **fields: sa.ColumnElement) -> sa.ScalarSelect:
    """The order's rows of `table` as one JSON array (money and times as text: exact, no floats)."""
    pairs: list[sa.ColumnElement] = []
    for name, value in fields.items():
        pairs += [sa.literal_column(f"'{name}'"), value]
    rows = sa.func.json_agg(aggregate_order_by(sa.func.json_build_object(*pairs), order_by), type_=JSON)
    return sa.select(rows).where(table.c.order_id == orders.c.order_id).scalar_subquery()


_i, _h = order_items.c, history.c
_TEXT = sa.Text
# An order with its items and history in one statement.
_ORDER = sa.select(
    orders,
    _json_of(
        order_items, _i.line, **{n: sa.cast(_i[n], _TEXT) if n == "unit_price" else _i[n] for n in _ITEM_COLUMNS}
    ).label("items_json"),
    _json_of(history, _h.revision, **{c.key: c for c in history.c}).label("history_json"),
)
CREATE, APPLY = _create_statement(), _apply_statement()
GET = _ORDER.where(orders.c.order_id == sa.bindparam("wanted", type_=_uuid), orders.c.status != TOMBSTONE)


def _tombstone_statement() -> sa.Insert:
    """An order id cancelled before its order was placed: a row of that id and nothing else, so a
    later CreateOrder conflicts with it (CREATE writes nothing). Returns the id when the id holds a
    tombstone now (new or earlier), nothing when an order was placed under it (a racing CreateOrder,
    which PostgreSQL makes this wait for)."""
    now = sa.bindparam("tomb_now", type_=_ts)
    row = pg_insert(orders).values(
        order_id=sa.bindparam("tomb_id", type_=_uuid),
        authorization_id="",
        status=TOMBSTONE,
        rev=0,
        created_at=now,
        updated_at=now,
    )
    return row.on_conflict_do_update(
        index_elements=[orders.c.order_id], set_={"updated_at": orders.c.updated_at}, where=orders.c.status == TOMBSTONE
    ).returning(orders.c.order_id)


TOMBSTONE_ORDER = _tombstone_statement()
# ListOrders' pages of one guest's orders, newest first: the first page, and a page after a position
GUEST_PAGE, GUEST_PAGE_AFTER = newest_first_pages(
    _ORDER.where(orders.c.guest_id == sa.bindparam("page_guest", type_=_uuid)), orders.c.created_at, orders.c.order_id
)


def _history_row(order_id: uuid.UUID, change: StatusChange) -> dict:
    return {
        "order_id": order_id,
        "revision": change.revision,
        "old_status": change.old_status and change.old_status.value,
        "new_status": change.new_status.value,
        "changed_by": change.changed_by,
        "reason": change.reason,
        "changed_at": change.changed_at,
    }


def create_params(o: Order, event: dict) -> dict:
    row = {c.key: getattr(o, c.key, None) for c in orders.c}
    row |= {"total_amount": o.total, "status": o.status.value}
    items = {f"items_{name}": [getattr(item, name) for item in o.items] for name in _ITEM_COLUMNS}
    return {
        **params_of(orders, row),
        **items,
        **params_of(history, _history_row(o.order_id, o.history[0])),
        **params_of(outbox, event),
    }


def _order(row) -> Order:
    m, currency = row._mapping, row.currency
    items = tuple(
        OrderItem(i["line"], i["sku"], i["name"], quantize(Decimal(i["unit_price"]), currency), currency, i["quantity"])
        for i in m["items_json"] or []
    )
    changes = tuple(
        StatusChange(
            h["revision"],
            OrderStatus(h["old_status"]) if h["old_status"] else None,
            OrderStatus(h["new_status"]),
            h["changed_by"],
            h["reason"],
            datetime.fromisoformat(h["changed_at"]),
        )
        for h in m["history_json"] or []
    )
    return Order(
        row.order_id,
        row.checkout_id,
        row.guest_id,
        items,
        quantize(row.total_amount, currency),
        currency,
        row.authorization_id,
        OrderStatus(row.status),
        m[orders.c.rev],
        row.created_at,
        row.updated_at,
        changes,
    )


class OrderRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def create(self, o: Order, event: dict) -> bool:
        """Writes the order with its items, first history row and event (one statement); False when
        an order of that checkout exists already (nothing is written)."""
        return (await self.conn.execute(CREATE, create_params(o, event))).first() is not None

    async def get(self, order_id: uuid.UUID) -> Order | None:
        row = (await self.conn.execute(GET, {"wanted": order_id})).first()
        return _order(row) if row else None

    async def tombstone(self, order_id: uuid.UUID, now: datetime) -> bool:
        """Marks an order id with no order as cancelled before placed (one statement); False when an
        order was placed under it meanwhile (nothing is written)."""
        return (await self.conn.execute(TOMBSTONE_ORDER, {"tomb_id": order_id, "tomb_now": now})).first() is not None

    async def apply(self, o: Order, event: dict) -> bool:
        """Writes the change `o.last_change` to an order read at revision `o.rev - 1` (one
        statement); False when the order changed since (nothing is written)."""
        params = {
            "apply_id": o.order_id,
            "apply_read_rev": o.rev - 1,
            "apply_status": o.status.value,
            "apply_rev": o.rev,
            "apply_updated": o.updated_at,
            **params_of(history, _history_row(o.order_id, o.last_change)),
            **params_of(outbox, event),
        }
        return (await self.conn.execute(APPLY, params)).first() is not None

    async def of_guest(self, guest_id: uuid.UUID, position: list | None, limit: int) -> list[Order]:
        statement = GUEST_PAGE if position is None else GUEST_PAGE_AFTER
        rows = await self.conn.execute(statement, {"page_guest": guest_id, **page_params(position, limit)})
        return [_order(row) for row in rows]


class OrderUnitOfWork(UnitOfWork):
    orders: OrderRepository

    def bind(self, conn) -> None:
        self.orders = OrderRepository(conn)
