"""passes schema: tables and the statements (built once at import; run by repositories.py with bind
parameters). DDL lives in migrations/versions/0001_passes.py.

Every write is one statement in an autocommit unit. A consume locks its entitlement row (the
conditional UPDATE) and then inserts the booking's usage; a restore locks the booking's usage and then
the entitlement row: a consume never waits on a usage another statement holds (its usage is new), so
the two cannot deadlock."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import newest_first_pages
from services.passes.domain import UsageStatus

metadata = sa.MetaData(schema="passes")
_ts = sa.DateTime(timezone=True)
_uuid = UUID(as_uuid=True)
_p = sa.bindparam
_STATUSES = ", ".join(f"'{s.value}'" for s in UsageStatus)

products = sa.Table(
    "pass_products",
    metadata,
    sa.Column("product_id", _uuid, primary_key=True),
    sa.Column("request_id", _uuid, nullable=False),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("sessions", sa.Integer, nullable=False),
    sa.Column("validity_days", sa.Integer, nullable=False),
    sa.Column("activity_ids", ARRAY(_uuid), nullable=False, server_default="{}"),
    sa.Column("price", sa.Numeric(12, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.UniqueConstraint("request_id", name="uq_pass_products_request_id"),
    sa.CheckConstraint("sessions BETWEEN 1 AND 1000", name="ck_pass_products_sessions"),
    sa.CheckConstraint("validity_days BETWEEN 1 AND 3660", name="ck_pass_products_validity_days"),
    sa.CheckConstraint("price >= 0", name="ck_pass_products_price"),
)
entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("entitlement_id", _uuid, primary_key=True),
    sa.Column("request_id", _uuid, nullable=False),
    sa.Column("product_id", _uuid, sa.ForeignKey(products.c.product_id), nullable=False),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("customer_id", _uuid, nullable=False),
    sa.Column("sessions_total", sa.Integer, nullable=False),
    sa.Column("sessions_remaining", sa.Integer, nullable=False),
    sa.Column("activity_ids", ARRAY(_uuid), nullable=False, server_default="{}"),
    sa.Column("valid_from", _ts, nullable=False),
    sa.Column("expire_time", _ts, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.UniqueConstraint("request_id", name="uq_entitlements_request_id"),
    # The last line of defence: never below zero, never above the total, whatever the code above does.
    sa.CheckConstraint(
        "sessions_remaining >= 0 AND sessions_remaining <= sessions_total", name="ck_entitlements_remaining"
    ),
    # ListEntitlements: one customer's, newest first
    sa.Index("idx_entitlements_customer", "customer_id", "created_at", "entitlement_id"),
)
usages = sa.Table(
    "usages",
    metadata,
    sa.Column("booking_id", _uuid, primary_key=True),
    sa.Column("entitlement_id", _uuid, sa.ForeignKey(entitlements.c.entitlement_id), nullable=False),
    sa.Column("activity_id", _uuid, nullable=True),  # NULL: a tombstone
    sa.Column("session_start", _ts, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("restored_at", _ts, nullable=True),
    sa.CheckConstraint(f"status IN ({_STATUSES})", name="ck_usages_status"),
    sa.CheckConstraint(
        "(status = 'tombstone') = (activity_id IS NULL) AND (activity_id IS NULL) = (session_start IS NULL)",
        name="ck_usages_tombstone",
    ),
    sa.Index("idx_usages_entitlement", "entitlement_id"),
)
_e, _u = entitlements, usages

CREATE_PRODUCT = (
    pg_insert(products)
    .values({c.key: _p(f"c_{c.key}", type_=c.type) for c in products.c})
    .on_conflict_do_nothing(index_elements=[products.c.request_id])
    .returning(products.c.product_id)
)
GET_PRODUCT = sa.select(products).where(products.c.product_id == _p("g_product", type_=_uuid))
PRODUCT_BY_REQUEST = sa.select(products).where(products.c.request_id == _p("g_request", type_=_uuid))


def _issue_statement() -> sa.Insert:
    """The entitlement of a product, all its sessions, valid from now for its validity_days; nothing
    when the product does not exist or the request_id was used (then the caller reads it)."""
    now = _p("i_now", type_=_ts)
    source = sa.select(
        _p("i_entitlement", type_=_uuid),
        _p("i_request", type_=_uuid),
        products.c.product_id,
        products.c.company_id,
        _p("i_customer", type_=_uuid),
        products.c.sessions,
        products.c.sessions,
        products.c.activity_ids,
        now,
        now + sa.func.make_interval(0, 0, 0, products.c.validity_days),
        now,
        now,
    ).where(products.c.product_id == _p("i_product", type_=_uuid))
    columns = ["entitlement_id", "request_id", "product_id", "company_id", "customer_id", "sessions_total"]
    columns += ["sessions_remaining", "activity_ids", "valid_from", "expire_time", "created_at", "updated_at"]
    return (
        pg_insert(_e)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=[_e.c.request_id])
        .returning(*_e.c)
    )


def _consume_statement() -> sa.Select:
    """One session of the entitlement for the booking, in one statement: the conditional UPDATE (still
    the customer's, a session left, unexpired, the session before expiry, the activity covered, no
    usage of the booking yet) takes it, and only then is the usage written. Row locks serialize a
    storm on one entitlement, each UPDATE re-checking `remaining > 0` on the row as the one before it
    left it; a twin of the same booking racing past the NOT EXISTS fails on the usage's key, and
    its decrement is undone with it."""
    now, start = _p("u_now", type_=_ts), _p("u_start", type_=_ts)
    booking, activity = _p("u_booking", type_=_uuid), _p("u_activity", type_=_uuid)
    taken = (
        sa.update(_e)
        .where(
            _e.c.entitlement_id == _p("u_entitlement", type_=_uuid),
            _e.c.customer_id == _p("u_customer", type_=_uuid),
            _e.c.sessions_remaining > 0,
            _e.c.expire_time > now,
            _e.c.expire_time > start,
            sa.or_(sa.func.cardinality(_e.c.activity_ids) == 0, activity == sa.any_(_e.c.activity_ids)),
            ~sa.exists().where(_u.c.booking_id == booking),
        )
        .values(sessions_remaining=_e.c.sessions_remaining - 1, updated_at=now)
        .returning(*_e.c)
        .cte("taken")
    )
    written = sa.insert(_u).from_select(
        ["booking_id", "entitlement_id", "activity_id", "session_start", "status", "created_at"],
        sa.select(booking, taken.c.entitlement_id, activity, start, sa.literal(UsageStatus.CONSUMED.value), now),
    )
    return sa.select(taken).add_cte(written.cte("written"))


def _restore_statement() -> sa.Select:
    """The booking's consumed usage of the entitlement marked restored (before expiry) or forfeited
    (after: nothing given back), and a restored one's session put back, never above the total. No row
    when the booking has no consumed usage of it."""
    now = _p("r_now", type_=_ts)
    entitlement = sa.select(_e).where(_e.c.entitlement_id == _p("r_entitlement", type_=_uuid)).cte("entitlement")
    status = sa.case((entitlement.c.expire_time > now, UsageStatus.RESTORED.value), else_=UsageStatus.FORFEITED.value)
    used = (
        sa.update(_u)
        .where(
            _u.c.booking_id == _p("r_booking", type_=_uuid),
            _u.c.entitlement_id == entitlement.c.entitlement_id,
            _u.c.status == UsageStatus.CONSUMED.value,
        )
        .values(status=status, restored_at=now)
        .returning(*_u.c)
        .cte("used")
    )
    back = (
        sa.update(_e)
        .where(
            _e.c.entitlement_id == used.c.entitlement_id,
            used.c.status == UsageStatus.RESTORED.value,
            _e.c.sessions_remaining < _e.c.sessions_total,
        )
        .values(sessions_remaining=_e.c.sessions_remaining + 1, updated_at=now)
        .returning(_e.c.sessions_remaining)
        .cte("back")
    )
    return sa.select(
        *entitlement.c, *(c.label(f"u_{c.key}") for c in used.c), back.c.sessions_remaining.label("after")
    ).select_from(used.join(entitlement, sa.true()).outerjoin(back, sa.true()))


# A booking's usage and an entitlement, read together (either may be missing).
STATE = sa.select(_e, *(c.label(f"u_{c.key}") for c in _u.c)).select_from(
    sa.select(sa.literal(1).label("one"))
    .subquery("one")
    .outerjoin(_e, _e.c.entitlement_id == _p("s_entitlement", type_=_uuid))
    .outerjoin(_u, _u.c.booking_id == _p("s_booking", type_=_uuid))
)
# A restore of a booking with no usage leaves a tombstone under the booking's key, so a consume
# arriving after it (a saga's late call) takes nothing; only on an entitlement that exists.
_tomb_now = _p("t_now", type_=_ts)
TOMBSTONE = (
    pg_insert(_u)
    .from_select(
        ["booking_id", "entitlement_id", "status", "created_at", "restored_at"],
        sa.select(
            _p("t_booking", type_=_uuid),
            _e.c.entitlement_id,
            sa.literal(UsageStatus.TOMBSTONE.value),
            _tomb_now,
            _tomb_now,
        ).where(_e.c.entitlement_id == _p("t_entitlement", type_=_uuid)),
    )
    .on_conflict_do_nothing()
    .returning(*_u.c)
)
ISSUE = _issue_statement()
CONSUME = _consume_statement()
RESTORE = _restore_statement()
GET_ENTITLEMENT = sa.select(_e).where(_e.c.entitlement_id == _p("g_entitlement", type_=_uuid))
ENTITLEMENT_BY_REQUEST = sa.select(_e).where(_e.c.request_id == _p("g_request", type_=_uuid))
_of_customer = sa.select(_e).where(_e.c.customer_id == _p("page_customer", type_=_uuid))
# ListEntitlements' pages, newest first: (first, after a position), of every company or of one
CUSTOMER_PAGES = newest_first_pages(_of_customer, _e.c.created_at, _e.c.entitlement_id)
COMPANY_PAGES = newest_first_pages(
    _of_customer.where(_e.c.company_id == _p("page_company", type_=_uuid)), _e.c.created_at, _e.c.entitlement_id
)
