"""Every SQL statement of bookings, built once at import and run with bind parameters. Parameter
names are never a column's (an UPDATE would take one named like a column as a value to SET)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.bookings.db import booking_extras, bookings, refund_requests
from services.bookings.domain import INTERRUPTED
from services.chassis.db import newest_first_pages

b, e, r = bookings.c, booking_extras.c, refund_requests.c


def _p(name: str, column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(f"p_{name}", type_=column.type)


_extra = sa.func.json_build_object(
    "extra_id", e.extra_id, "name", e.name, "unit_price", sa.cast(e.unit_price, sa.Text), "quantity", e.quantity
)
_extras = (
    sa.select(sa.func.coalesce(sa.func.json_agg(aggregate_order_by(_extra, e.line)), sa.text("'[]'::json")))
    .where(e.booking_id == b.booking_id)
    .scalar_subquery()
    .label("extras")
)
_refund = [c.label(f"refund_{c.key}") for c in refund_requests.c if c.key not in ("booking_id", "claim_until")]
# A booking with its extras (in order) and its refund request: one statement.
ROW = sa.select(bookings, _extras, *_refund).select_from(bookings.outerjoin(refund_requests))
GET = ROW.where(b.booking_id == _p("booking", b.booking_id))
_mine = ROW.where(b.user_id == _p("user", b.user_id))
# The caller's bookings, newest session first: all, of one session, of one company ((first, after) each).
LIST_MINE = newest_first_pages(_mine, b.session_start, b.booking_id)
LIST_MINE_OF_SESSION = newest_first_pages(
    _mine.where(b.session_id == _p("session", b.session_id)), b.session_start, b.booking_id
)
LIST_MINE_AT_COMPANY = newest_first_pages(
    _mine.where(b.company_id == _p("company", b.company_id)), b.session_start, b.booking_id
)
# The bookings of a session that held a seat (a FAILED one never kept one), oldest first: the
# business session view.
OF_SESSION = ROW.where(b.session_id == _p("session", b.session_id), b.status != "failed").order_by(
    b.created_at, b.booking_id
)

CLAIM_COLUMNS = ("billing_due", "claim_until", "claim_kind", "claim_key")
CLAIM = (
    pg_insert(bookings)
    .values({c.key: sa.bindparam(c.key, type_=c.type) for c in bookings.c if c.key not in CLAIM_COLUMNS})
    .on_conflict_do_nothing()
    .returning(b.booking_id)
)
ADD_EXTRAS = sa.insert(booking_extras)
_this = b.booking_id == _p("booking", b.booking_id)
_pending = b.status == "pending"
CONFIRM = (
    sa.update(bookings)
    .where(_this, _pending)
    .values(
        status=_p("status", b.status),
        payment_status=_p("payment_status", b.payment_status),
        wallet_cash=_p("wallet_cash", b.wallet_cash),
        wallet_bonus=_p("wallet_bonus", b.wallet_bonus),
        authorization_id=_p("authorization_id", b.authorization_id),
        updated_at=_p("now", b.updated_at),
    )
    .returning(b.booking_id)
)
# A recovery's compensation knows no cause (BOOKING_INTERRUPTED): the one noted when the caller was
# answered (NOTE_FAILURE) is kept.
_kept_reason = sa.case(
    (sa.and_(_p("reason", b.failure_reason) == INTERRUPTED, b.failure_reason != ""), b.failure_reason),
    else_=_p("reason", b.failure_reason),
)
FAIL = (
    sa.update(bookings)
    .where(_this, _pending)
    .values(status="failed", failure_reason=_kept_reason, updated_at=_p("now", b.updated_at))
    .returning(b.booking_id)
)
# A pending booking whose compensation waits for a peer (left to recovery): why it is failing.
NOTE_FAILURE = (
    sa.update(bookings)
    .where(_this, _pending, b.failure_reason == "")
    .values(failure_reason=_p("reason", b.failure_reason), updated_at=_p("now", b.updated_at))
    .returning(b.booking_id)
)
# Cancels the booking if it is still as read (its status) and nobody is taking its money now.
CANCEL = (
    sa.update(bookings)
    .where(_this, b.status == _p("was", b.status), b.claim_until.is_(None))
    .values(status="cancelled", updated_at=_p("now", b.updated_at))
    .returning(b.booking_id)
)
ADD_REFUND = sa.insert(refund_requests)

# Billing of slot attendees (billing.py). Due: the session finished, or the wallet was topped up.
MARK_DUE_OF_SESSION = (
    sa.update(bookings)
    .where(
        b.session_id == _p("session", b.session_id),
        b.type == "slot_attendee",
        b.status == "confirmed",
        b.payment_status == "unpaid",
    )
    .values(billing_due=True)
)
MARK_DUE_OF_CUSTOMER = (
    sa.update(bookings)
    .where(
        b.customer_id == _p("customer", b.customer_id),
        b.company_id == _p("company", b.company_id),
        b.status == "pending_payment",
    )
    .values(billing_due=True)
)
_now, _held = _p("now", b.claim_until), _p("held", b.claim_until)
_free = sa.or_(b.claim_until.is_(None), b.claim_until < _now)
_due = (
    sa.select(b.booking_id)
    .where(b.billing_due, _free)
    .limit(sa.bindparam("p_limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
# Due bookings nobody is billing (or whose biller's claim ran out), claimed for the wallet loop.
CLAIM_DUE = (
    sa.update(bookings)
    .where(b.booking_id.in_(_due.scalar_subquery()), b.billing_due, _free)
    .values(claim_until=_p("until", b.claim_until), claim_kind="wallet")
    .returning(
        b.booking_id, b.customer_id, b.company_id, b.activity_id, b.total, b.currency, b.claim_key, b.claim_until
    )
)
_card_claimable = sa.or_(b.claim_until.is_(None), sa.and_(b.claim_until < _now, b.claim_kind == "card"))
_seen = (
    sa.select(b.booking_id, b.claim_key.label("old_key"))
    .where(_this, b.status == "pending_payment", _card_claimable)
    .with_for_update()
    .subquery("seen")
)
# PayBooking's claim: answers the key of an earlier card attempt that never finished (to void).
CLAIM_FOR_CARD = (
    sa.update(bookings)
    .where(b.booking_id == _seen.c.booking_id)
    .values(claim_until=_p("until", b.claim_until), claim_kind="card", claim_key=_p("key", b.claim_key))
    .returning(_seen.c.old_key)
)
_claim_cleared: dict[str, Any] = {"claim_until": None, "claim_kind": None, "claim_key": None}
_mine_claimed = (_this, b.claim_until == _held)
PAID = (
    sa.update(bookings)
    .where(*_mine_claimed)
    .values(
        status="confirmed",
        payment_status="paid",
        payment_method=_p("method", b.payment_method),
        wallet_cash=_p("wallet_cash", b.wallet_cash),
        wallet_bonus=_p("wallet_bonus", b.wallet_bonus),
        authorization_id=_p("authorization_id", b.authorization_id),
        billing_due=False,
        updated_at=_p("at", b.updated_at),
        **_claim_cleared,
    )
    .returning(b.booking_id)
)
UNPAID = (
    sa.update(bookings)
    .where(*_mine_claimed)
    .values(status="pending_payment", billing_due=False, updated_at=_p("at", b.updated_at), **_claim_cleared)
    .returning(b.booking_id)
)
UNCLAIM = sa.update(bookings).where(*_mine_claimed).values(**_claim_cleared).returning(b.booking_id)

# Refunds of cancelled bookings (refunds.py): requested ones whose owner's claim ran out.
_open = (
    sa.select(r.refund_request_id)
    .where(r.status == "requested", r.claim_until < _p("now", r.claim_until))
    .limit(sa.bindparam("p_limit", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
CLAIM_REFUNDS = (
    sa.update(refund_requests)
    .where(r.refund_request_id.in_(_open.scalar_subquery()), r.status == "requested")
    .values(claim_until=_p("until", r.claim_until))
    .returning(r.booking_id, r.claim_until)
)
COMPLETE_REFUND = (
    sa.update(refund_requests)
    .where(
        r.booking_id == _p("booking", r.booking_id), r.status == "requested", r.claim_until == _p("held", r.claim_until)
    )
    .values(
        status="completed",
        completed_at=_p("at", r.completed_at),
        entitlement_restored=_p("restored", r.entitlement_restored),
    )
    .returning(r.booking_id)
)
MARK_REFUNDED = (
    sa.update(bookings)
    .where(_this, b.payment_status == "paid")
    .values(payment_status="refunded", updated_at=_p("at", b.updated_at))
)
