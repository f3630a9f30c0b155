"""The ledger's statements (built once at import, run with bind parameters by repositories.py).

Every write of a transaction is one statement gated on its `INSERT … ON CONFLICT DO NOTHING` into
`transactions`: when the operation_id (or, for a reversal, the reversed transaction) is taken, the
statement writes nothing else and returns no row. Changes of existing lots run under the member's
`accounts` row lock (LOCK_ACCOUNT, taken first in the same transaction)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import newest_first_pages
from services.chassis.statements import gated
from services.loyalty.db import accounts, entries, lots, redeem_rules, transactions
from services.loyalty.domain import Kind

_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_p = sa.bindparam
_t, _l = transactions, lots


def _insert_transaction() -> sa.CTE:
    """The transaction row from parameters `t_<column>`; returns it, or nothing when taken."""
    values = {c.key: _p(f"t_{c.key}", type_=c.type) for c in _t.c}
    return pg_insert(_t).values(values).on_conflict_do_nothing().returning(*_t.c).cte("txn")


def _earn_statement() -> sa.Select:
    """The earning's transaction, the member's account (if new), and its lot with the lot's first
    entry when it earned points."""
    txn = _insert_transaction()
    account = (
        pg_insert(accounts)
        .from_select(["member_id", "created_at"], sa.select(txn.c.member_id, txn.c.created_at))
        .on_conflict_do_nothing()
    )
    lot_row = sa.select(
        txn.c.operation_id,
        txn.c.member_id,
        txn.c.company_id,
        txn.c.points,
        txn.c.points,
        txn.c.expire_time,
        sa.false(),
        txn.c.created_at,
    ).where(txn.c.points > 0)
    lot = pg_insert(_l).from_select([c.key for c in _l.c], lot_row)
    entry_row = sa.select(
        txn.c.operation_id, txn.c.operation_id, txn.c.member_id, txn.c.company_id, txn.c.points, txn.c.created_at
    ).where(txn.c.points > 0)
    entry = pg_insert(entries).from_select([c.key for c in entries.c], entry_row)
    return gated(txn, [account, lot, entry])


def _record_statement() -> sa.Select:
    """A redemption, reversal or expiry: the transaction, and its moves of existing lots (arrays
    `m_lots`, `m_issuers`, `m_deltas`, `m_revoke`: remaining += delta, revoked if asked) with an entry
    per move that moved points."""
    txn = _insert_transaction()
    moves = (
        sa.func.unnest(
            _p("m_lots", type_=ARRAY(_uuid)),
            _p("m_issuers", type_=ARRAY(_uuid)),
            _p("m_deltas", type_=ARRAY(sa.BigInteger)),
            _p("m_revoke", type_=ARRAY(sa.Boolean)),
        )
        .table_valued(
            sa.column("lot_id", _uuid),
            sa.column("issuer", _uuid),
            sa.column("delta", sa.BigInteger),
            sa.column("revoke", sa.Boolean),
        )
        .render_derived(name="moves")
    )
    moved = (
        sa.update(_l)
        .where(_l.c.lot_id == moves.c.lot_id, sa.exists(sa.select(txn.c.operation_id)))
        .values(remaining=_l.c.remaining + moves.c.delta, revoked=sa.or_(_l.c.revoked, moves.c.revoke))
    )
    entry_row = (
        sa.select(txn.c.operation_id, moves.c.lot_id, txn.c.member_id, moves.c.issuer, moves.c.delta, txn.c.created_at)
        .select_from(txn.join(moves, sa.true()))
        .where(moves.c.delta != 0)
    )
    entry = pg_insert(entries).from_select([c.key for c in entries.c], entry_row)
    return gated(txn, [moved, entry])


def _void_statement() -> sa.Select:
    """The reversal of a transaction that does not exist (in this statement's snapshot) under an
    unused operation_id: the target's id as VOIDED (the tombstone that refuses it later) and a
    reversal that moved nothing. Returns the reversal, or no row."""
    op, target, now = _p("v_operation", type_=_uuid), _p("v_target", type_=_uuid), _p("v_now", type_=_ts)
    unused = ~sa.exists(sa.select(_t.c.operation_id).where(_t.c.operation_id.in_([op, target])))
    zero = sa.literal(0, sa.BigInteger)
    nothing: list[Any] = [zero, sa.cast(sa.literal("[]"), _t.c.by_issuer.type)]
    names = ["operation_id", "kind", "points", "by_issuer", "request", "shortfall", "created_at"]
    tombstone: list[Any] = [target, sa.literal(Kind.VOIDED.value), *nothing, sa.literal(""), zero, now]
    voided = (
        pg_insert(_t)
        .from_select(names, sa.select(*tombstone).where(unused))
        .on_conflict_do_nothing()
        .returning(_t.c.operation_id)
        .cte("voided")
    )
    request = _p("v_request", type_=sa.Text)
    columns: list[Any] = [op, sa.literal(Kind.REVERSAL.value), *nothing, request, zero, now, voided.c.operation_id]
    reversal = sa.select(*columns)
    written = (
        pg_insert(_t)
        .from_select([*names, "reverses_operation_id"], reversal)
        .on_conflict_do_nothing()
        .returning(*_t.c)
        .cte("reversal")
    )
    return sa.select(written)


def _live(member: sa.BindParameter, now: sa.BindParameter, issuers: sa.BindParameter) -> list[Any]:
    return [
        _l.c.member_id == member,
        _l.c.remaining > 0,
        sa.or_(_l.c.expire_time.is_(None), _l.c.expire_time > now),
        sa.or_(sa.func.cardinality(issuers) == 0, _l.c.issuer_company_id == sa.any_(issuers)),
    ]


_member, _now, _issuers = _p("a_member", type_=_uuid), _p("a_now", type_=_ts), _p("a_issuers", type_=ARRAY(_uuid))
EARN, RECORD, VOID = _earn_statement(), _record_statement(), _void_statement()
TRANSACTION = sa.select(_t).where(_t.c.operation_id == _p("o_operation", type_=_uuid))
# The member's row lock, taken first by every change of its lots. An upsert, so that it locks even a
# member whose first earning is being written (a redemption that then fails rolls the row back).
_lock = pg_insert(accounts).values(member_id=_member, created_at=_now)
LOCK_ACCOUNT = _lock.on_conflict_do_update(
    index_elements=[accounts.c.member_id], set_={"member_id": _lock.excluded.member_id}
).returning(accounts.c.member_id)
# A member's unexpired points per issuer (of the issuers asked for; an empty array: all).
ACCOUNT = (
    sa.select(_l.c.issuer_company_id, sa.func.sum(_l.c.remaining).label("points"), sa.func.min(_l.c.expire_time))
    .where(*_live(_member, _now, _issuers))
    .group_by(_l.c.issuer_company_id)
    .order_by(_l.c.issuer_company_id)
)
# The lots a redemption may take from, soonest expiry first (never-expiring last), then the oldest.
REDEEMABLE = (
    sa.select(_l)
    .where(*_live(_member, _now, _issuers))
    .order_by(_l.c.expire_time.asc().nulls_last(), _l.c.created_at, _l.c.lot_id)
)
LOTS = sa.select(_l).where(_l.c.lot_id == sa.any_(_p("k_lots", type_=ARRAY(_uuid))))
ENTRIES_OF = sa.select(entries).where(entries.c.operation_id == _p("n_operation", type_=_uuid))
# What a redemption finds before it writes: its operation_id's transaction and the company's rule.
_one = sa.select(sa.literal(1).label("one")).subquery("one")
REDEEM_LOOKUP = (
    sa.select(*(c.label(f"t_{c.key}") for c in _t.c), *(c.label(f"r_{c.key}") for c in redeem_rules.c))
    .select_from(_one)
    .outerjoin(_t, _t.c.operation_id == _p("o_operation", type_=_uuid))
    .outerjoin(redeem_rules, redeem_rules.c.company_id == _p("o_company", type_=_uuid))
)
# What a reversal finds: its own transaction, the target, and the target's reversal.
REVERSAL_LOOKUP = sa.select(_t).where(
    sa.or_(
        _t.c.operation_id.in_([_p("q_operation", type_=_uuid), _p("q_target", type_=_uuid)]),
        _t.c.reverses_operation_id == _p("q_target", type_=_uuid),
    )
)
# The expiry job: members with expired points left, locked (others' locked rows skipped), and their lots.
EXPIRING_MEMBERS = (
    sa.select(accounts.c.member_id)
    .where(
        accounts.c.member_id.in_(
            sa.select(_l.c.member_id).where(_l.c.expire_time <= _p("x_now", type_=_ts), _l.c.remaining > 0)
        )
    )
    .order_by(accounts.c.member_id)
    .limit(_p("x_batch", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
EXPIRED_LOTS = sa.select(_l).where(
    _l.c.member_id == sa.any_(_p("x_members", type_=ARRAY(_uuid))),
    _l.c.expire_time <= _p("x_now", type_=_ts),
    _l.c.remaining > 0,
)
PAGE, PAGE_AFTER = newest_first_pages(
    sa.select(_t).where(_t.c.member_id == _p("page_member", type_=_uuid)), _t.c.created_at, _t.c.operation_id
)
