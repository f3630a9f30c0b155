"""wallet schema: tables and the statements (built once; run by repositories.py). DDL lives in
migrations/versions/0001_wallet.py.

Entries store signed amounts (a debit's are negative), so a balance is the plain sum of its wallet's
entries; the `wallets` row keeps that sum, moved by the statement that writes the entry, and a CHECK
keeps it from going negative. Debit and refund are one autocommit statement each; a top-up is one
statement plus its outbox row, in one transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import newest_first_pages
from services.chassis.outbox import outbox_table
from services.wallet.domain import Kind

metadata = sa.MetaData(schema="wallet")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_amount = sa.Numeric(20, 2)
_p = sa.bindparam

# The currency each company's wallets keep: fixed by its first top-up.
companies = sa.Table(
    "company_currencies",
    metadata,
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
)
wallets = sa.Table(
    "wallets",
    metadata,
    sa.Column("customer_id", _uuid, primary_key=True),
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("cash", _amount, nullable=False),
    sa.Column("bonus", _amount, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
)
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("operation_id", _uuid, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    # NULL on a voided debit and on the refund that voided it (nothing moved)
    sa.Column("customer_id", _uuid),
    sa.Column("company_id", _uuid),
    sa.Column("currency", sa.CHAR(3)),
    sa.Column("cash", _amount, nullable=False),
    sa.Column("bonus", _amount, nullable=False),
    # a refund's debit: one refund per debit
    sa.Column("refunds_operation_id", _uuid, unique=True),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_entries_wallet_created", "customer_id", "company_id", "created_at", "operation_id"),
)
outbox = outbox_table(metadata)
_w, _e, _c = wallets, entries, companies
_ENTRY = ["operation_id", "kind", "customer_id", "company_id", "currency", "cash", "bonus", "created_at"]


def _wallet_key(prefix: str) -> list[sa.ColumnElement[bool]]:
    return [
        _w.c.customer_id == _p(f"{prefix}_customer", type_=_uuid),
        _w.c.company_id == _p(f"{prefix}_company", type_=_uuid),
    ]


def _top_up_statement() -> sa.Select:
    """The entry and the wallet's new balances, written only if the company keeps this currency (or
    has none yet: then this fixes it) and the operation_id is new. Returns the wallet after it, or
    no row (nothing written). A company whose currency a concurrent first top-up is fixing writes
    nothing either (its insert waited, then found the row its snapshot could not see)."""
    cur, company, now = _p("t_currency", type_=sa.CHAR(3)), _p("t_company", type_=_uuid), _p("t_now", type_=_ts)
    known = sa.select(_c.c.currency).where(_c.c.company_id == company).cte("known")
    fixed = (
        pg_insert(_c)
        .from_select(["company_id", "currency", "created_at"], sa.select(company, cur, now).where(~sa.exists(known)))
        .on_conflict_do_nothing()
        .returning(_c.c.currency)
        .cte("fixed")
    )
    keeps = sa.or_(sa.exists(sa.select(known).where(known.c.currency == cur)), sa.exists(fixed))
    values: list[sa.ColumnElement[Any]] = [
        _p("t_operation", type_=_uuid),
        sa.literal(Kind.TOP_UP.value),
        _p("t_customer", type_=_uuid),
        company,
        cur,
        _p("t_cash", type_=_amount),
        _p("t_bonus", type_=_amount),
        now,
    ]
    entry = (
        pg_insert(_e)
        .from_select(_ENTRY, sa.select(*values).where(keeps))
        .on_conflict_do_nothing()
        .returning(*_e.c)
        .cte("entry")
    )
    row = sa.select(entry.c.customer_id, entry.c.company_id, entry.c.currency, entry.c.cash, entry.c.bonus, now, now)
    added = pg_insert(_w).from_select(
        ["customer_id", "company_id", "currency", "cash", "bonus", "created_at", "updated_at"], row
    )
    upsert = added.on_conflict_do_update(
        index_elements=[_w.c.customer_id, _w.c.company_id],
        set_={
            "cash": _w.c.cash + added.excluded.cash,
            "bonus": _w.c.bonus + added.excluded.bonus,
            "updated_at": added.excluded.updated_at,
        },
    ).returning(*_w.c)
    return sa.select(upsert.cte("moved"))


def _debit_statement() -> sa.Select:
    """Locks the wallet row (read as committed once the lock is ours), splits the amount bonus first,
    and writes the entry and the new balances only if the wallet is in this currency, holds enough,
    and the operation_id is new. Returns the entry and the wallet after it, or no row."""
    amount, now = _p("d_amount", type_=_amount), _p("d_now", type_=_ts)
    locked = sa.select(_w.c.cash, _w.c.bonus, _w.c.currency).where(*_wallet_key("d")).with_for_update().cte("locked")
    bonus = sa.func.least(locked.c.bonus, amount)
    fits = sa.and_(locked.c.currency == _p("d_currency", type_=sa.CHAR(3)), locked.c.cash + locked.c.bonus >= amount)
    values: list[sa.ColumnElement[Any]] = [
        _p("d_operation", type_=_uuid),
        sa.literal(Kind.DEBIT.value),
        _p("d_customer", type_=_uuid),
        _p("d_company", type_=_uuid),
        locked.c.currency,
        -(amount - bonus),
        -bonus,
        now,
    ]
    entry = (
        pg_insert(_e)
        .from_select(_ENTRY, sa.select(*values).where(fits))
        .on_conflict_do_nothing()
        .returning(*_e.c)
        .cte("entry")
    )
    moved = (
        sa.update(_w)
        .where(_w.c.customer_id == entry.c.customer_id, _w.c.company_id == entry.c.company_id)
        .values(cash=_w.c.cash + entry.c.cash, bonus=_w.c.bonus + entry.c.bonus, updated_at=now)
        .returning(*_w.c)
        .cte("moved")
    )
    return _entry_and_wallet(entry, moved)


def _entry_and_wallet(entry: sa.CTE, moved: sa.CTE) -> sa.Select:
    return sa.select(*(c.label(f"e_{c.key}") for c in entry.c), *(c.label(f"w_{c.key}") for c in moved.c)).join_from(
        entry, moved, sa.true()
    )


def _refund_statement() -> sa.Select:
    """Gives back what the debit took (the refund's entry from the debit's, negated, and the wallet
    moved by it) if it is a debit, this operation_id is new and the debit has no refund yet. Of a
    debit that does not exist (in this statement's snapshot) and an operation_id unused, it writes
    the tombstone instead: the debit's id as VOIDED, and a refund of it that moved nothing. Returns
    the refund's entry, with the wallet after it when money moved; no row when nothing was written."""
    op, debit_id, now = _p("r_operation", type_=_uuid), _p("r_debit", type_=_uuid), _p("r_now", type_=_ts)
    debit = sa.select(_e).where(_e.c.operation_id == debit_id).cte("debit")
    columns = [*_ENTRY, "refunds_operation_id"]
    given = sa.select(
        op,
        sa.literal(Kind.REFUND.value),
        *(debit.c[n] for n in _ENTRY[2:5]),
        -debit.c.cash,
        -debit.c.bonus,
        now,
        debit_id,
    ).where(debit.c.kind == Kind.DEBIT.value)
    refund = pg_insert(_e).from_select(columns, given).on_conflict_do_nothing().returning(*_e.c).cte("refund")
    moved = (
        sa.update(_w)
        .where(_w.c.customer_id == refund.c.customer_id, _w.c.company_id == refund.c.company_id)
        .values(cash=_w.c.cash + refund.c.cash, bonus=_w.c.bonus + refund.c.bonus, updated_at=now)
        .returning(*_w.c)
        .cte("moved")
    )
    unused = ~sa.exists(debit) & ~sa.exists(sa.select(_e.c.operation_id).where(_e.c.operation_id == op))
    none, zero = sa.cast(sa.null(), _uuid), sa.cast(sa.literal(0), _amount)
    nothing: list[sa.ColumnElement[Any]] = [none, none, sa.cast(sa.null(), sa.CHAR(3)), zero, zero, now]
    voided = (
        pg_insert(_e)
        .from_select(_ENTRY, sa.select(debit_id, sa.literal(Kind.VOIDED.value), *nothing).where(unused))
        .on_conflict_do_nothing()
        .returning(_e.c.operation_id)
        .cte("voided")
    )
    void_refund = sa.select(op, sa.literal(Kind.REFUND.value), *nothing, voided.c.operation_id)
    tombstone = pg_insert(_e).from_select(columns, void_refund).on_conflict_do_nothing().returning(*_e.c).cte("tomb")
    answered = sa.union_all(sa.select(refund), sa.select(tombstone)).cte("answered")
    return sa.select(*(c.label(f"e_{c.key}") for c in answered.c), *(c.label(f"w_{c.key}") for c in moved.c)).join_from(
        answered, moved, sa.true(), isouter=True
    )


def _lookup_statement() -> sa.Select:
    """A wallet (if any), its company's currency (if known) and the entry of an operation_id (if
    any): one row, whatever exists."""
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    entry_of = _e.c.operation_id == _p("l_operation", type_=_uuid)
    company = _c.c.company_id == _p("l_company", type_=_uuid)
    return (
        sa.select(
            *(c.label(f"e_{c.key}") for c in _e.c),
            *(c.label(f"w_{c.key}") for c in _w.c),
            _c.c.currency.label("company_currency"),
        )
        .select_from(one)
        .outerjoin(_e, entry_of)
        .outerjoin(_w, sa.and_(*_wallet_key("l")))
        .outerjoin(_c, company)
    )


TOP_UP, DEBIT, REFUND, LOOKUP = _top_up_statement(), _debit_statement(), _refund_statement(), _lookup_statement()
# What a refund that wrote nothing finds: its own entry, the debit's refund, the debit's entry.
REFUND_LOOKUP = sa.select(_e).where(
    sa.or_(
        _e.c.operation_id.in_([_p("q_operation", type_=_uuid), _p("q_debit", type_=_uuid)]),
        _e.c.refunds_operation_id == _p("q_debit", type_=_uuid),
    )
)
# ListWalletTransactions' pages, newest first: the first page, and a page after a position
PAGE, PAGE_AFTER = newest_first_pages(
    sa.select(_e).where(
        _e.c.customer_id == _p("page_customer", type_=_uuid), _e.c.company_id == _p("page_company", type_=_uuid)
    ),
    _e.c.created_at,
    _e.c.operation_id,
)
