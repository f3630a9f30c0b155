"""inventory schema: tables and the statements (built once; run by repositories.py). DDL lives in
migrations/versions/0001_inventory.py.

Every write is one statement, run in an autocommit unit (or the consumer's transaction). Stock rows
are always locked in SKU order, so reservations, releases and commits sharing SKUs cannot deadlock."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.inventory.domain import Status

metadata = sa.MetaData(schema="inventory")
_ts = sa.DateTime(timezone=True)
_p = sa.bindparam

stock = sa.Table(
    "stock",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", _ts, nullable=False),
)
reservations = sa.Table(
    "stock_reservations",
    metadata,
    sa.Column("checkout_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("hold_seconds", sa.Integer, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("expire_time", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    # the order holding the stock (set by OrderCreated): the sweep never releases it
    sa.Column("order_id", UUID(as_uuid=True), nullable=True),
    # the expiry sweep reads only what still holds stock and no order holds
    sa.Index(
        "idx_stock_reservations_expiring",
        "expire_time",
        postgresql_where=sa.text("status = 'reserved' AND order_id IS NULL"),
    ),
)
lines = sa.Table(
    "stock_reservation_lines",
    metadata,
    sa.Column("checkout_id", UUID(as_uuid=True), sa.ForeignKey(reservations.c.checkout_id), primary_key=True),
    sa.Column("sku", sa.String(64), sa.ForeignKey(stock.c.sku), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Index("idx_stock_reservation_lines_sku", "sku"),
)
inbox = inbox_table(metadata)
_r, _l, _s = reservations, lines, stock


def _reserve_statement() -> sa.Select:
    """All lines or none, in one statement: the wanted stock rows are locked in SKU order (each
    read as committed once its lock is ours), and only when every line fits are they all taken and
    the reservation written. A twin request racing for the same checkout fails on its key."""
    checkout, now = _p("r_checkout", type_=_r.c.checkout_id.type), _p("r_now", type_=_ts)
    wanted = sa.select(
        sa.func.unnest(_p("r_skus", type_=ARRAY(sa.String))).label("sku"),
        sa.func.unnest(_p("r_quantities", type_=ARRAY(sa.Integer))).label("quantity"),
    ).cte("wanted")
    already = sa.exists().where(_r.c.checkout_id == checkout)
    locked = (
        sa.select(_s.c.sku, (_s.c.on_hand - _s.c.reserved).label("available"), wanted.c.quantity)
        .join_from(_s, wanted, _s.c.sku == wanted.c.sku)
        .where(~already)
        .order_by(_s.c.sku)
        .with_for_update(of=_s)
        .cte("locked")
    )
    fit = sa.select(sa.func.count()).select_from(locked).where(locked.c.available >= locked.c.quantity)
    fits = (fit.scalar_subquery() == _p("r_count", type_=sa.Integer)).label("fits")
    taken = sa.update(_s).where(_s.c.sku == locked.c.sku, fits).values(reserved=_s.c.reserved + locked.c.quantity)
    header = (
        sa.insert(_r)
        .from_select(
            ["checkout_id", "status", "hold_seconds", "created_at", "expire_time", "updated_at"],
            sa.select(
                checkout,
                sa.literal(Status.RESERVED.value),
                _p("r_hold", type_=sa.Integer),
                now,
                _p("r_expire", type_=_ts),
                now,
            ).where(fits),
        )
        .returning(_r.c.checkout_id)
        .cte("header")
    )
    written = sa.insert(_l).from_select(
        ["checkout_id", "sku", "quantity"],
        sa.select(header.c.checkout_id, wanted.c.sku, wanted.c.quantity).join_from(header, wanted, sa.true()),
    )
    return (
        sa.select(wanted.c.sku, locked.c.available, fits, already.label("already"))
        .join_from(wanted, locked, wanted.c.sku == locked.c.sku, isouter=True)
        .add_cte(taken.cte("taken"), written.cte("written"))
    )


def _settling(picked: sa.CTE, to: Status, live_only: bool) -> tuple[sa.CTE, sa.CTE]:
    """Moves the `picked` reservations (locked rows) still reserved to `to`, and their stock with
    them: back to available, or, for a commit, out of on_hand too. A commit takes only unexpired
    ones, or ones an order holds (they never expire). Returns (changed reservations, stock update),
    both to add to the statement."""
    still = [picked.c.status == Status.RESERVED.value]
    if live_only:
        still.append(sa.or_(picked.c.expire_time > _p("s_now", type_=_ts), picked.c.order_id.is_not(None)))
    changed = (
        sa.update(_r)
        .where(_r.c.checkout_id == picked.c.checkout_id, *still)
        .values(status=to.value, updated_at=_p("s_now", type_=_ts))
        .returning(_r.c.checkout_id)
        .cte("changed")
    )
    freed = (
        sa.select(_l.c.sku, sa.func.sum(_l.c.quantity).label("quantity"))
        .join_from(_l, changed, _l.c.checkout_id == changed.c.checkout_id)
        .group_by(_l.c.sku)
        .cte("freed")
    )
    locked = (
        sa.select(_s.c.sku, freed.c.quantity)
        .join_from(_s, freed, _s.c.sku == freed.c.sku)
        .order_by(_s.c.sku)
        .with_for_update(of=_s)
        .cte("stock_locked")
    )
    moves = {"reserved": _s.c.reserved - locked.c.quantity}
    if to is Status.COMMITTED:
        moves["on_hand"] = _s.c.on_hand - locked.c.quantity
    return changed, sa.update(_s).where(_s.c.sku == locked.c.sku).values(moves).cte("moved")


def _settle_statement(to: Status) -> sa.Select:
    """One reservation settled by checkout id: its row (locked, so read as committed) with its
    lines, and whether this statement changed it."""
    picked = sa.select(_r).where(_r.c.checkout_id == _p("s_checkout", type_=_r.c.checkout_id.type))
    picked_cte = picked.with_for_update().cte("picked")
    changed, moved = _settling(picked_cte, to, live_only=to is Status.COMMITTED)
    return (
        sa.select(*picked_cte.c, _l.c.sku, _l.c.quantity, sa.select(changed).exists().label("changed"))
        .join_from(picked_cte, _l, _l.c.checkout_id == picked_cte.c.checkout_id, isouter=True)
        .add_cte(moved)
    )


def _expire_statement() -> sa.Select:
    """Releases a batch of expired reservations (rows another statement holds are left for later)."""
    now = _p("s_now", type_=_ts)
    due = (
        sa.select(_r.c.checkout_id, _r.c.status, _r.c.expire_time, _r.c.order_id)
        .where(_r.c.status == Status.RESERVED.value, _r.c.order_id.is_(None), _r.c.expire_time <= now)
        .order_by(_r.c.expire_time)
        .limit(_p("s_batch", type_=sa.Integer))
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    changed, moved = _settling(due, Status.RELEASED, live_only=False)
    return sa.select(sa.func.count()).select_from(changed).add_cte(moved)


def _set_level_statements() -> tuple[sa.Insert, sa.Update]:
    """(with a name: create or update; without: update only) — both refused below what is reserved."""
    on_hand, now = _p("l_on_hand", type_=sa.Integer), _p("l_now", type_=_ts)
    sku = _p("l_sku", type_=_s.c.sku.type)
    insert = pg_insert(_s).values(
        sku=sku, name=_p("l_name", type_=sa.String), on_hand=on_hand, reserved=0, updated_at=now
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[_s.c.sku],
        set_={"name": insert.excluded.name, "on_hand": insert.excluded.on_hand, "updated_at": now},
        where=_s.c.reserved <= insert.excluded.on_hand,
    ).returning(*_s.c)
    update = sa.update(_s).where(_s.c.sku == sku, _s.c.reserved <= on_hand).values(on_hand=on_hand, updated_at=now)
    return upsert, update.returning(*_s.c)


RESERVE = _reserve_statement()
SETTLE = {to: _settle_statement(to) for to in (Status.RELEASED, Status.COMMITTED)}
EXPIRE = _expire_statement()
GET_RESERVATION = (
    sa.select(_r, _l.c.sku, _l.c.quantity)
    .join_from(_r, _l, _l.c.checkout_id == _r.c.checkout_id, isouter=True)
    .where(_r.c.checkout_id == _p("g_checkout", type_=_r.c.checkout_id.type))
)
# The release of a checkout with no reservation leaves a released one with no lines (a tombstone), so
# a ReserveInventory arriving after it (a saga's late call) takes nothing; it shares the reservation's
# key, so it and a racing reservation cannot both be written.
_tomb_now = _p("t_now", type_=_ts)
TOMBSTONE = (
    pg_insert(_r)
    .values(
        checkout_id=_p("t_checkout", type_=_r.c.checkout_id.type),
        status=Status.RELEASED.value,
        hold_seconds=0,
        created_at=_tomb_now,
        expire_time=_tomb_now,
        updated_at=_tomb_now,
    )
    .on_conflict_do_nothing()
    .returning(_r.c.checkout_id)
)
# An order created from the checkout holds its reservation until the order ends (OrderCompleted commits,
# OrderCancelled releases): the expiry sweep no longer releases it. Only a reserved one can be held.
HOLD = (
    sa.update(_r)
    .where(_r.c.checkout_id == _p("h_checkout", type_=_r.c.checkout_id.type), _r.c.status == Status.RESERVED.value)
    .values(order_id=_p("h_order", type_=_r.c.order_id.type), updated_at=_p("h_now", type_=_ts))
    .returning(_r.c.checkout_id)
)
GET_STOCK = sa.select(_s).where(_s.c.sku == _p("g_sku", type_=_s.c.sku.type))
UPSERT_LEVEL, UPDATE_LEVEL = _set_level_statements()
