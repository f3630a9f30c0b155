"""network schema: tables and the statements (built once at import; run by repositories.py with bind
parameters). DDL lives in migrations/versions/0001_network.py.

Membership changes (invite, accept, decline, leave) and settlements lock the network's row FOR UPDATE,
so they run one at a time per network; a redemption's write takes it FOR SHARE, so no transaction is
written into a period while it is being settled."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.db import newest_first_pages
from services.chassis.outbox import outbox_table

metadata = sa.MetaData(schema="network")
_uuid = UUID(as_uuid=True)
_ts = sa.DateTime(timezone=True)
_amount = sa.Numeric(24, 4)  # rounded to the currency's minor unit before it is stored
_rate = sa.Numeric(30, 9)  # a point's value: google.type.Money's nanos
_p = sa.bindparam

networks = sa.Table(
    "networks",
    metadata,
    sa.Column("network_id", _uuid, primary_key=True),
    sa.Column("request_id", _uuid, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("founder_company_id", _uuid, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    # The end of the latest period settled (exclusive): a transaction of an earlier day settles then.
    sa.Column("settled_through", sa.Date),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_networks_currency"),
)
memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("membership_id", _uuid, primary_key=True),
    sa.Column("network_id", _uuid, sa.ForeignKey(networks.c.network_id), nullable=False),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("joined_at", _ts, nullable=False),
    sa.Column("left_at", _ts),
    sa.Column("invitation_id", _uuid, unique=True),  # one membership per accepted invitation
    # A business is a current member once: concurrent accepts make one membership.
    sa.Index(
        "uq_memberships_current",
        "network_id",
        "company_id",
        unique=True,
        postgresql_where=sa.text("left_at IS NULL"),
    ),
    sa.Index("idx_memberships_network_joined", "network_id", "joined_at"),
)
invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("invitation_id", _uuid, primary_key=True),
    sa.Column("network_id", _uuid, sa.ForeignKey(networks.c.network_id), nullable=False),
    sa.Column("inviter_company_id", _uuid, nullable=False),
    sa.Column("invitee_company_id", _uuid, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("expire_at", _ts, nullable=False),
    sa.Column("decided_at", _ts),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'expired')", name="ck_invitations_status"),
    sa.CheckConstraint("expire_at > created_at", name="ck_invitations_expiry"),
    # One pending invitation per invitee and network.
    sa.Index(
        "uq_invitations_pending",
        "network_id",
        "invitee_company_id",
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    ),
)
redemptions = sa.Table(
    "redemptions",
    metadata,
    sa.Column("operation_id", _uuid, primary_key=True),  # RedeemAcrossNetwork's idempotency key
    sa.Column("network_id", _uuid, sa.ForeignKey(networks.c.network_id), nullable=False),
    sa.Column("member_id", _uuid, nullable=False),
    sa.Column("company_id", _uuid, nullable=False),
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("value", _amount, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("occurred_at", _ts, nullable=False),
    sa.CheckConstraint("points > 0 AND value >= 0", name="ck_redemptions_amounts"),
)
transactions = sa.Table(
    "cross_business_transactions",
    metadata,
    sa.Column("transaction_id", _uuid, primary_key=True),
    sa.Column("operation_id", _uuid, sa.ForeignKey(redemptions.c.operation_id), nullable=False),
    sa.Column("network_id", _uuid, sa.ForeignKey(networks.c.network_id), nullable=False),
    sa.Column("issuer_company_id", _uuid, nullable=False),
    sa.Column("redeemer_company_id", _uuid, nullable=False),
    sa.Column("member_id", _uuid, nullable=False),
    sa.Column("points", sa.BigInteger, nullable=False),
    sa.Column("point_value", _rate, nullable=False),
    sa.Column("value", _amount, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("occurred_at", _ts, nullable=False),
    # The day whose settlement period takes it: its own (UTC), or the first day after the last
    # settled period when it came after that period was settled (periods close; late ones roll on).
    sa.Column("settlement_date", sa.Date, nullable=False),
    sa.CheckConstraint(
        "points > 0 AND point_value >= 0 AND value >= 0 AND issuer_company_id <> redeemer_company_id",
        name="ck_transactions_amounts",
    ),
    sa.Index("idx_transactions_network_occurred", "network_id", "occurred_at", "transaction_id"),
    sa.Index("idx_transactions_network_settlement", "network_id", "settlement_date"),
    sa.Index("idx_transactions_operation", "operation_id"),
)
settlements = sa.Table(
    "settlements",
    metadata,
    sa.Column("settlement_id", _uuid, primary_key=True),
    sa.Column("network_id", _uuid, sa.ForeignKey(networks.c.network_id), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("transaction_count", sa.Integer, nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.UniqueConstraint("network_id", "period_start", "period_end", name="uq_settlements_period"),
    sa.CheckConstraint("period_end > period_start", name="ck_settlements_period"),
)
positions = sa.Table(
    "settlement_positions",
    metadata,
    sa.Column("settlement_id", _uuid, sa.ForeignKey(settlements.c.settlement_id), primary_key=True),
    sa.Column("company_id", _uuid, primary_key=True),
    sa.Column("receivable", _amount, nullable=False),
    sa.Column("payable", _amount, nullable=False),
    sa.CheckConstraint("receivable >= 0 AND payable >= 0", name="ck_positions_amounts"),
)
transfers = sa.Table(
    "settlement_transfers",
    metadata,
    sa.Column("settlement_id", _uuid, sa.ForeignKey(settlements.c.settlement_id), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("from_company_id", _uuid, nullable=False),
    sa.Column("to_company_id", _uuid, nullable=False),
    sa.Column("amount", _amount, nullable=False),
    sa.CheckConstraint("amount > 0 AND from_company_id <> to_company_id", name="ck_transfers_amount"),
)
outbox = outbox_table(metadata)
_n, _m, _i, _r, _t, _s = networks, memberships, invitations, redemptions, transactions, settlements

_network_id = _n.c.network_id == _p("network", type_=_uuid)
CREATE_NETWORK = pg_insert(_n).on_conflict_do_nothing(index_elements=[_n.c.request_id]).returning(_n.c.network_id)
NETWORK_OF_REQUEST = sa.select(_n).where(_n.c.request_id == _p("request", type_=_uuid))
GET_NETWORK = sa.select(_n).where(_network_id)
LOCK_NETWORK = sa.select(_n).where(_network_id).with_for_update()
SHARE_NETWORK = sa.select(_n).where(_network_id).with_for_update(read=True)

_m_network = _m.c.network_id == _p("network", type_=_uuid)
_m_company = _m.c.company_id == _p("company", type_=_uuid)
ADD_MEMBERSHIP = (
    pg_insert(_m)
    .on_conflict_do_nothing(index_elements=[_m.c.network_id, _m.c.company_id], index_where=_m.c.left_at.is_(None))
    .returning(_m.c.membership_id)
)
MEMBERSHIPS = sa.select(_m).where(_m_network).order_by(_m.c.joined_at, _m.c.membership_id)
MEMBERSHIP_OF_INVITATION = sa.select(_m).where(_m.c.invitation_id == _p("invitation", type_=_uuid))
LEAVE = (
    sa.update(_m)
    .where(_m_network, _m_company, _m.c.left_at.is_(None))
    .values(left_at=_p("now", type_=_ts))
    .returning(*_m.c)
)
LATEST_MEMBERSHIP = sa.select(_m).where(_m_network, _m_company).order_by(_m.c.joined_at.desc()).limit(1)

GET_INVITATION = sa.select(_i).where(_i.c.invitation_id == _p("invitation", type_=_uuid))
PENDING_INVITATION = sa.select(_i).where(
    _i.c.network_id == _p("network", type_=_uuid),
    _i.c.invitee_company_id == _p("company", type_=_uuid),
    _i.c.status == "pending",
)
ADD_INVITATION = sa.insert(_i)
DECIDE_INVITATION = (
    sa.update(_i)
    .where(_i.c.invitation_id == _p("invitation", type_=_uuid))
    .values(status=_p("status", type_=sa.String), decided_at=_p("now", type_=_ts))
)

ADD_REDEMPTION = pg_insert(_r).on_conflict_do_nothing(index_elements=[_r.c.operation_id]).returning(_r.c.operation_id)
ADD_TRANSACTIONS = sa.insert(_t)
GET_REDEMPTION = sa.select(_r).where(_r.c.operation_id == _p("operation", type_=_uuid))
TRANSACTIONS_OF_REDEMPTION = (
    sa.select(_t).where(_t.c.operation_id == _p("operation", type_=_uuid)).order_by(_t.c.issuer_company_id)
)
TRANSACTIONS_BETWEEN = sa.select(_t).where(
    _t.c.network_id == _p("network", type_=_uuid),
    _t.c.settlement_date >= _p("start", type_=sa.Date),
    _t.c.settlement_date < _p("end", type_=sa.Date),
)
# A settlement closes its period: later transactions of its days settle in the next one.
CLOSE_PERIOD = (
    sa.update(_n)
    .where(_network_id)
    .values(
        settled_through=sa.func.greatest(
            sa.func.coalesce(_n.c.settled_through, _p("end", type_=sa.Date)), _p("end", type_=sa.Date)
        )
    )
)
TRANSACTION_PAGE, TRANSACTION_PAGE_AFTER = newest_first_pages(
    sa.select(_t).where(_t.c.network_id == _p("page_network", type_=_uuid)), _t.c.occurred_at, _t.c.transaction_id
)

_s_network = _s.c.network_id == _p("network", type_=_uuid)
SETTLEMENT_OF_PERIOD = sa.select(_s).where(
    _s_network, _s.c.period_start == _p("start", type_=sa.Date), _s.c.period_end == _p("end", type_=sa.Date)
)
OVERLAPPING_SETTLEMENT = sa.select(_s.c.settlement_id).where(
    _s_network, _s.c.period_start < _p("end", type_=sa.Date), _s.c.period_end > _p("start", type_=sa.Date)
)
SETTLEMENTS = sa.select(_s).where(_s_network).order_by(_s.c.period_start.desc())
_in_settlements = sa.bindparam("settlements", expanding=True, type_=_uuid)
POSITIONS = sa.select(positions).where(positions.c.settlement_id.in_(_in_settlements)).order_by(positions.c.company_id)
TRANSFERS = sa.select(transfers).where(transfers.c.settlement_id.in_(_in_settlements)).order_by(transfers.c.seq)
ADD_SETTLEMENT, ADD_POSITIONS, ADD_TRANSFERS = sa.insert(_s), sa.insert(positions), sa.insert(transfers)
