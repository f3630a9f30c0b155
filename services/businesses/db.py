"""businesses schema: tables and the statements (built once at import; run by repositories.py with
bind parameters). DDL lives in migrations/versions/0001_businesses.py.

Every write is one statement, run in an autocommit unit: a creation or a registration inserts, or
finds what a first call (or a racing twin) stored, in the same statement."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import newest_first_pages

metadata = sa.MetaData(schema="businesses")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_p = sa.bindparam

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("request_id", _uuid, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.CheckConstraint("kind IN ('novatrek_base', 'partner_business')", name="ck_companies_kind"),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_companies_currency"),
    sa.Index("idx_companies_created", "created_at", "company_id"),
)
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", _uuid, primary_key=True),
    sa.Column("company_id", _uuid, sa.ForeignKey(companies.c.company_id), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("user_id", _uuid, nullable=True),
    sa.Column("guest_id", _uuid, nullable=True),
    sa.Column("created_at", _ts, nullable=False),
    # The registration's idempotency key: one customer per e-mail (stored lowercase) and company.
    sa.UniqueConstraint("company_id", "email", name="uq_customers_company_email"),
    sa.CheckConstraint("email = lower(email)", name="ck_customers_email_lowercase"),
    # One customer per platform user and company (ResolveCustomer reads through it).
    sa.Index(
        "uq_customers_company_user",
        "company_id",
        "user_id",
        unique=True,
        postgresql_where=sa.text("user_id IS NOT NULL"),
    ),
    sa.Index("idx_customers_company_created", "company_id", "created_at", "customer_id"),
)
_co, _cu = companies, customers


def _create_company() -> sa.CompoundSelect:
    """The company made by this request_id: inserted now, or the one a first call (or a racing twin
    that committed before this statement began) stored. No row: a twin committed while this statement
    ran (its snapshot cannot see that row); run it again."""
    request_id = _p("c_request", type_=_uuid)
    made = (
        pg_insert(_co)
        .values(
            company_id=_p("c_company", type_=_uuid),
            request_id=request_id,
            name=_p("c_name", type_=sa.String),
            kind=_p("c_kind", type_=sa.String),
            currency=_p("c_currency", type_=sa.String),
            created_at=_p("c_now", type_=_ts),
        )
        .on_conflict_do_nothing(index_elements=[_co.c.request_id])
        .returning(*_co.c)
        .cte("made")
    )
    stored = sa.select(_co).where(_co.c.request_id == request_id, ~sa.exists(sa.select(made.c.company_id)))
    return sa.select(made).union_all(stored)


def _register_customer() -> sa.CompoundSelect:
    """The customer of this company and e-mail: inserted now; or the stored one, given the user and
    guest of this call where it had none and nothing conflicts (a different user or guest links
    nothing: the caller refuses the call). No row: a twin committed while this statement ran."""
    company, email = _p("r_company", type_=_uuid), _p("r_email", type_=sa.String)
    new = pg_insert(_cu).values(
        customer_id=_p("r_customer", type_=_uuid),
        company_id=company,
        email=email,
        full_name=_p("r_full_name", type_=sa.String),
        user_id=_p("r_user", type_=_uuid),
        guest_id=_p("r_guest", type_=_uuid),
        created_at=_p("r_now", type_=_ts),
    )
    proposed = new.excluded
    compatible = sa.and_(
        sa.func.coalesce(_cu.c.user_id == proposed.user_id, sa.true()),
        sa.func.coalesce(_cu.c.guest_id == proposed.guest_id, sa.true()),
    )
    links = sa.or_(
        sa.and_(_cu.c.user_id.is_(None), proposed.user_id.is_not(None)),
        sa.and_(_cu.c.guest_id.is_(None), proposed.guest_id.is_not(None)),
    )
    registered = (
        new.on_conflict_do_update(
            constraint="uq_customers_company_email",
            set_={
                "user_id": sa.func.coalesce(_cu.c.user_id, proposed.user_id),
                "guest_id": sa.func.coalesce(_cu.c.guest_id, proposed.guest_id),
            },
            where=sa.and_(compatible, links),
        )
        .returning(*_cu.c)
        .cte("registered")
    )
    stored = sa.select(_cu).where(
        _cu.c.company_id == company, _cu.c.email == email, ~sa.exists(sa.select(registered.c.customer_id))
    )
    return sa.select(registered).union_all(stored)


CREATE_COMPANY = _create_company()
GET_COMPANY = sa.select(_co).where(_co.c.company_id == _p("g_company", type_=_uuid))
COMPANY_PAGE, COMPANY_PAGE_AFTER = newest_first_pages(sa.select(_co), _co.c.created_at, _co.c.company_id)
REGISTER_CUSTOMER = _register_customer()
GET_CUSTOMER = sa.select(_cu).where(_cu.c.customer_id == _p("g_customer", type_=_uuid))
CUSTOMER_PAGE, CUSTOMER_PAGE_AFTER = newest_first_pages(
    sa.select(_cu).where(_cu.c.company_id == _p("page_company", type_=_uuid)), _cu.c.created_at, _cu.c.customer_id
)
RESOLVE_CUSTOMER = sa.select(_cu).where(
    _cu.c.company_id == _p("g_company", type_=_uuid), _cu.c.user_id == _p("g_user", type_=_uuid)
)
