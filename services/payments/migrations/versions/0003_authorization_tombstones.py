"""tombstones: a checkout's authorization voided before it was stored

Revision ID: 0003
Revises: 0002

A VoidAuthorization by checkout_id that finds no authorization (the checkout saga's compensation
overtaking its own AuthorizePayment) writes an authorizations row for that checkout in status
'voided' with no request (guest, amount, currency, method reference), so the late AuthorizePayment's
insert conflicts with it on checkout_id and is refused. Every stored authorization still has its
request (ck_authorizations_requested).
"""

from alembic import op

revision = "0003"
down_revision = "0002"

_REQUEST = ("guest_id", "amount", "currency", "method_reference")


def upgrade() -> None:
    for column in _REQUEST:
        op.alter_column("authorizations", column, nullable=True, schema="payments")
    requested = " AND ".join(f"{column} IS NOT NULL" for column in _REQUEST)
    op.create_check_constraint(
        "ck_authorizations_requested", "authorizations", f"status = 'voided' OR ({requested})", schema="payments"
    )


def downgrade() -> None:
    op.execute("DELETE FROM payments.authorizations WHERE guest_id IS NULL")
    op.drop_constraint("ck_authorizations_requested", "authorizations", schema="payments")
    for column in _REQUEST:
        op.alter_column("authorizations", column, nullable=False, schema="payments")
