"""partners schema: the seed's four tables plus idempotency keys, sagas and the outbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.chassis.outbox import outbox_table
from services.chassis.saga_store import saga_table

metadata = sa.MetaData(schema="partners")
_uuid, _ts, _money = UUID(as_uuid=True), sa.DateTime(timezone=True), sa.Numeric(12, 2)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("partner_id", _uuid, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("contact_email", sa.String(254), nullable=False),
    sa.Column("webhook_url", sa.String(2000), nullable=False, server_default=""),
    sa.Column("webhook_secret", sa.String(128), nullable=False),
    sa.Column("commission_plan", JSONB, nullable=False),
    sa.Column("api_key_id", sa.String(12), nullable=False, unique=True),
    sa.Column("api_key_hash", sa.String(64), nullable=False),
    sa.Column("previous_key_id", sa.String(12), unique=True),
    sa.Column("previous_key_hash", sa.String(64)),
    sa.Column("previous_key_expires_at", _ts),
    sa.Column("created_at", _ts, nullable=False),
)
partner_bookings = sa.Table(
    "partner_bookings",
    metadata,
    sa.Column("booking_id", _uuid, primary_key=True),
    sa.Column("partner_id", _uuid, sa.ForeignKey("partners.partners.partner_id"), nullable=False),
    sa.Column("reservation_id", _uuid, nullable=False, unique=True),
    sa.Column("confirmation_code", sa.String(12), nullable=False),
    sa.Column("partner_reference", sa.String(100), nullable=False, server_default=""),
    sa.Column("guest_id", _uuid, nullable=False),
    sa.Column("trip_id", _uuid, nullable=False),
    sa.Column("trip_date", sa.Date, nullable=False),
    sa.Column("party_size", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("gross_amount", _money, nullable=False),
    sa.Column("commission_amount", _money, nullable=False),
    sa.Column("commission_rate", sa.Numeric(6, 5), nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("cancelled_at", _ts),
    sa.Index("idx_pb_partner_created", "partner_id", "created_at", "booking_id"),
)
commission_records = sa.Table(
    "commission_records",
    metadata,
    sa.Column("commission_record_id", _uuid, primary_key=True),
    sa.Column("booking_id", _uuid, sa.ForeignKey("partners.partner_bookings.booking_id"), nullable=False, unique=True),
    sa.Column("partner_id", _uuid, nullable=False),
    sa.Column("amount", _money, nullable=False),
    sa.Column("currency", sa.CHAR(3), nullable=False),
    sa.Column("rate", sa.Numeric(6, 5), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # recorded | reversed
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("reversed_at", _ts),
)
reconciliation_log = sa.Table(
    "reconciliation_log",
    metadata,
    sa.Column("log_id", _uuid, primary_key=True),
    sa.Column("reconciliation_id", _uuid, nullable=False),
    sa.Column("partner_id", _uuid),  # null: every partner (admin run)
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=False),
    sa.Column("booking_id", _uuid),  # null on the run's summary row
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("logged_at", _ts, nullable=False),
    sa.Index("idx_recon_run", "reconciliation_id"),
)
# The partner's volume of a UTC month as commission tiers count it. One statement per booking moves
# it, so bookings made at the same moment each get a place of their own (none misses another).
commission_volumes = sa.Table(
    "commission_volumes",
    metadata,
    sa.Column("partner_id", _uuid, primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),  # the first day of the month
    sa.Column("bookings", sa.Integer, nullable=False),
    sa.Column("gross", sa.Numeric(14, 2), nullable=False),
    info={"support": True},
)
# Each booking's place in that volume: taken once (a step run again reads it back), given back when
# the booking is compensated or cancelled.
volume_entries = sa.Table(
    "commission_volume_entries",
    metadata,
    sa.Column("booking_id", _uuid, primary_key=True),
    sa.Column("partner_id", _uuid, nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("gross", _money, nullable=False),
    sa.Column("bookings_after", sa.Integer, nullable=False),
    sa.Column("gross_after", sa.Numeric(14, 2), nullable=False),
    info={"support": True},
)
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("partner_id", _uuid, primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # in_flight | completed
    sa.Column("response", sa.LargeBinary),  # serialized response, or google.rpc.Status of a final error
    sa.Column("is_error", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", _ts, nullable=False),
    sa.Column("expires_at", _ts, nullable=False),
    sa.Index("idx_idem_expires", "expires_at"),
    info={"support": True},
)
sagas = saga_table(metadata)
outbox = outbox_table(metadata)
