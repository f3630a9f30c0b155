"""companies and their customers

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0001"
down_revision = None

_ts = sa.DateTime(timezone=True)
_uuid = UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("company_id", _uuid, primary_key=True),
        # CreateCompany's idempotency key
        sa.Column("request_id", _uuid, nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", _ts, nullable=False),
        sa.CheckConstraint("kind IN ('novatrek_base', 'partner_business')", name="ck_companies_kind"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_companies_currency"),
        schema="businesses",
    )
    # ListCompanies: newest first
    op.create_index("idx_companies_created", "companies", ["created_at", "company_id"], schema="businesses")
    op.create_table(
        "customers",
        sa.Column("customer_id", _uuid, primary_key=True),
        sa.Column("company_id", _uuid, sa.ForeignKey("businesses.companies.company_id"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("user_id", _uuid, nullable=True),
        sa.Column("guest_id", _uuid, nullable=True),
        sa.Column("created_at", _ts, nullable=False),
        # RegisterCustomer's idempotency key: one customer per company and e-mail (lowercase).
        sa.UniqueConstraint("company_id", "email", name="uq_customers_company_email"),
        sa.CheckConstraint("email = lower(email)", name="ck_customers_email_lowercase"),
        schema="businesses",
    )
    # One customer per company and platform user; ResolveCustomer reads through it.
    op.create_index(
        "uq_customers_company_user",
        "customers",
        ["company_id", "user_id"],
        unique=True,
        schema="businesses",
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    # ListCustomers: one company's, newest first
    op.create_index(
        "idx_customers_company_created", "customers", ["company_id", "created_at", "customer_id"], schema="businesses"
    )


def downgrade() -> None:
    for table in ("customers", "companies"):
        op.drop_table(table, schema="businesses")
