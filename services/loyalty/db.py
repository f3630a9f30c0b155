"""loyalty schema: the tables, and the rules' statements (built once; run by repositories.py). The
ledger's statements are in ledger_sql.py. DDL lives in migrations/versions/0001_loyalty.py.

A lot is one earning's points (`remaining` of `points` left); `entries` record every move of a lot
(signed), so the sum of a member's entries is the sum of the remaining of its lots. `transactions`
holds one row per operation_id with the request it answered."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.consumer import inbox_table
from services.chassis.outbox import outbox_table

metadata = sa.MetaData(schema="loyalty")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_p = sa.bindparam

earn_rules = sa.Table(
    "earn_rules",
    metadata,
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("category", sa.String(100), primary_key=True),
    sa.Column("points_per_unit", sa.Numeric(12, 4), nullable=False),
    sa.Column("expiry_days", sa.Integer, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.CheckConstraint("source IN ('trip', 'session', 'order')", name="ck_earn_rules_source"),
    sa.CheckConstraint("points_per_unit >= 0 AND expiry_days >= 0", name="ck_earn_rules_values"),
)
# The company that earns on a source whose events name none (trip, order): one per source.
source_holders = sa.Table(
    "source_holders",
    metadata,
    sa.Column("source", sa.String(16), primary_key=True),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.CheckConstraint("source IN ('trip', 'order')", name="ck_source_holders_source"),
)
redeem_rules = sa.Table(
    "redeem_rules",
    metadata,
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("point_value", sa.Numeric(20, 9), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("updated_at", _ts, nullable=False),
    sa.CheckConstraint("point_value > 0", name="ck_redeem_rules_point_value"),
)
# One row per member: what every change of a member's lots locks first.
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("member_id", _uuid, primary_key=True),
    sa.Column("created_at", _ts, nullable=False),
)
transactions = sa.Table(
    "transactions",
    metadata,
    sa.Column("operation_id", _uuid, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    # NULL on a tombstone and on the reversal of an unknown transaction
    sa.Column("member_id", _uuid),
    sa.Column("company_id", _uuid),
    sa.Column("points", sa.BigInteger, nullable=False),
    # [[issuer company_id, points], ...]
    sa.Column("by_issuer", JSONB, nullable=False),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("source", sa.String(16)),
    sa.Column("category", sa.String(100)),
    sa.Column("amount", sa.Numeric(20, 4)),
    sa.Column("currency", sa.CHAR(3)),
    sa.Column("expire_time", _ts),
    sa.Column("point_value", sa.Numeric(20, 9)),
    sa.Column("value", sa.Numeric(20, 4)),
    # one reversal per transaction
    sa.Column("reverses_operation_id", _uuid, unique=True),
    sa.Column("shortfall", sa.BigInteger, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_transactions_member_created", "member_id", "created_at", "operation_id"),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'reversal', 'expiry', 'voided')", name="ck_transactions_kind"),
    sa.CheckConstraint(
        "CASE kind WHEN 'earn' THEN points >= 0 WHEN 'redeem' THEN points < 0 WHEN 'expiry' THEN points < 0 "
        "WHEN 'voided' THEN points = 0 ELSE true END AND shortfall >= 0",
        name="ck_transactions_points",
    ),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_operation_id IS NOT NULL)", name="ck_transactions_reverses"),
    # only a tombstone and the reversal that left it name no member (they moved nothing)
    sa.CheckConstraint("member_id IS NOT NULL OR points = 0", name="ck_transactions_member"),
)
lots = sa.Table(
    "lots",
    metadata,
    # the earning's operation_id
    sa.Column("lot_id", _uuid, sa.ForeignKey("loyalty.transactions.operation_id"), primary_key=True),
    sa.Column("member_id", _uuid, sa.ForeignKey("loyalty.accounts.member_id"), nullable=False),
    sa.Column("issuer_company_id", _uuid, nullable=False),
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("remaining", sa.BigInteger, nullable=False),
    sa.Column("expire_time", _ts),
    sa.Column("revoked", sa.Boolean, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_lots_member_expire", "member_id", "expire_time"),
    sa.Index("idx_lots_expiring", "expire_time", postgresql_where=sa.text("remaining > 0")),
    # never overdrawn, never above what was earned, whatever the code above it does
    sa.CheckConstraint("points > 0 AND remaining >= 0 AND remaining <= points", name="ck_lots_remaining"),
)
entries = sa.Table(
    "entries",
    metadata,
    sa.Column("operation_id", _uuid, sa.ForeignKey("loyalty.transactions.operation_id"), primary_key=True),
    sa.Column("lot_id", _uuid, sa.ForeignKey("loyalty.lots.lot_id"), primary_key=True),
    sa.Column("member_id", _uuid, nullable=False),
    sa.Column("issuer_company_id", _uuid, nullable=False),
    # signed: what the transaction moved in the lot
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Index("idx_entries_lot", "lot_id"),
    sa.CheckConstraint("points <> 0", name="ck_entries_points"),
)
inbox = inbox_table(metadata)
outbox = outbox_table(metadata)
_r, _h = earn_rules, source_holders


def _set_earn_rule_statement() -> sa.Select:
    """Upserts the rule; for an exclusive source (trip, order) only if the company holds it or takes
    it now (nobody did). The rule as saved, or no row when another company holds the source."""
    company, source, now = _p("e_company", type_=_uuid), _p("e_source", type_=sa.String), _p("e_now", type_=_ts)
    exclusive = _p("e_exclusive", type_=sa.Boolean)
    take = pg_insert(_h).from_select(
        ["source", "company_id", "created_at"], sa.select(source, company, now).where(exclusive)
    )
    claim = (
        take.on_conflict_do_update(
            index_elements=[_h.c.source],
            set_={"company_id": take.excluded.company_id},
            where=_h.c.company_id == take.excluded.company_id,
        )
        .returning(_h.c.company_id)
        .cte("claim")
    )
    values = sa.select(
        company,
        source,
        _p("e_category", type_=sa.String),
        _p("e_points_per_unit", type_=_r.c.points_per_unit.type),
        _p("e_expiry_days", type_=sa.Integer),
        now,
        now,
    ).where(sa.or_(sa.not_(exclusive), sa.exists(sa.select(claim.c.company_id))))
    added = pg_insert(_r).from_select([c.key for c in _r.c], values)
    saved = added.on_conflict_do_update(
        index_elements=[_r.c.company_id, _r.c.source, _r.c.category],
        set_={
            "points_per_unit": added.excluded.points_per_unit,
            "expiry_days": added.excluded.expiry_days,
            "updated_at": added.excluded.updated_at,
        },
    ).returning(*_r.c)
    return sa.select(saved.cte("saved"))


def _set_redeem_rule_statement() -> sa.Insert:
    added = pg_insert(redeem_rules).values(
        company_id=_p("d_company", type_=_uuid),
        currency=_p("d_currency", type_=sa.CHAR(3)),
        point_value=_p("d_point_value", type_=redeem_rules.c.point_value.type),
        created_at=_p("d_now", type_=_ts),
        updated_at=_p("d_now", type_=_ts),
    )
    return added.on_conflict_do_update(
        index_elements=[redeem_rules.c.company_id],
        set_={
            "currency": added.excluded.currency,
            "point_value": added.excluded.point_value,
            "updated_at": added.excluded.updated_at,
        },
    ).returning(*redeem_rules.c)


SET_EARN_RULE, SET_REDEEM_RULE = _set_earn_rule_statement(), _set_redeem_rule_statement()
SOURCE_HOLDER = sa.select(_h.c.company_id).where(_h.c.source == _p("h_source", type_=sa.String))
EARN_RULES_OF = (
    sa.select(_r).where(_r.c.company_id == _p("q_company", type_=_uuid)).order_by(_r.c.source, _r.c.category)
)
REDEEM_RULE_OF = sa.select(redeem_rules).where(redeem_rules.c.company_id == _p("q_company", type_=_uuid))
# The rule an earning uses: its category's, else the source's "" (any) rule.
EARN_RULE_FOR = (
    sa.select(_r)
    .where(
        _r.c.company_id == _p("f_company", type_=_uuid),
        _r.c.source == _p("f_source", type_=sa.String),
        _r.c.category.in_([_p("f_category", type_=sa.String), ""]),
    )
    .order_by(_r.c.category.desc())
    .limit(1)
)
