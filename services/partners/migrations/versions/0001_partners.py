"""partners, partner_bookings, commission_records, reconciliation_log (seed), idempotency keys, sagas, outbox

Revision ID: 0001
Revises:
"""

from alembic import op

from services.chassis.migrations import create_outbox, create_sagas

revision = "0001"
down_revision = None

TABLES = """
CREATE TABLE partners.partners (
    partner_id              UUID PRIMARY KEY,
    name                    VARCHAR(200) NOT NULL,
    contact_email           VARCHAR(254) NOT NULL,
    webhook_url             VARCHAR(2000) NOT NULL DEFAULT '',
    webhook_secret          VARCHAR(128) NOT NULL,
    commission_plan         JSONB NOT NULL,
    api_key_id              VARCHAR(12) NOT NULL UNIQUE,
    api_key_hash            VARCHAR(64) NOT NULL,
    previous_key_id         VARCHAR(12) UNIQUE,
    previous_key_hash       VARCHAR(64),
    previous_key_expires_at TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL
);
CREATE TABLE partners.partner_bookings (
    booking_id        UUID PRIMARY KEY,
    partner_id        UUID NOT NULL REFERENCES partners.partners (partner_id),
    reservation_id    UUID NOT NULL UNIQUE,
    confirmation_code VARCHAR(12) NOT NULL,
    partner_reference VARCHAR(100) NOT NULL DEFAULT '',
    guest_id          UUID NOT NULL,
    trip_id           UUID NOT NULL,
    trip_date         DATE NOT NULL,
    party_size        INTEGER NOT NULL CHECK (party_size > 0),
    status            VARCHAR(20) NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
    gross_amount      NUMERIC(12,2) NOT NULL,
    commission_amount NUMERIC(12,2) NOT NULL,
    commission_rate   NUMERIC(6,5) NOT NULL,
    currency          CHAR(3) NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    cancelled_at      TIMESTAMPTZ
);
CREATE INDEX idx_pb_partner_created ON partners.partner_bookings (partner_id, created_at, booking_id);
CREATE TABLE partners.commission_records (
    commission_record_id UUID PRIMARY KEY,
    booking_id           UUID NOT NULL UNIQUE REFERENCES partners.partner_bookings (booking_id),
    partner_id           UUID NOT NULL,
    amount               NUMERIC(12,2) NOT NULL,
    currency             CHAR(3) NOT NULL,
    rate                 NUMERIC(6,5) NOT NULL,
    status               VARCHAR(20) NOT NULL CHECK (status IN ('recorded', 'reversed')),
    created_at           TIMESTAMPTZ NOT NULL,
    reversed_at          TIMESTAMPTZ
);
CREATE TABLE partners.reconciliation_log (
    log_id            UUID PRIMARY KEY,
    reconciliation_id UUID NOT NULL,
    partner_id        UUID,
    start_date        DATE NOT NULL,
    end_date          DATE NOT NULL,
    booking_id        UUID,
    kind              VARCHAR(40) NOT NULL,
    detail            TEXT NOT NULL,
    logged_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_recon_run ON partners.reconciliation_log (reconciliation_id);
CREATE TABLE partners.idempotency_keys (
    partner_id      UUID NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    request_hash    VARCHAR(64) NOT NULL,
    state           VARCHAR(16) NOT NULL CHECK (state IN ('in_flight', 'completed')),
    response        BYTEA,
    is_error        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (partner_id, idempotency_key)
);
CREATE INDEX idx_idem_expires ON partners.idempotency_keys (expires_at)
"""


def upgrade() -> None:
    for statement in TABLES.split(";\n"):
        op.execute(statement)
    create_sagas("partners")
    create_outbox("partners")


def downgrade() -> None:
    for table in ("outbox", "saga_instances", "idempotency_keys", "reconciliation_log", "commission_records", "partner_bookings", "partners"):
        op.execute(f"DROP TABLE IF EXISTS partners.{table}")
