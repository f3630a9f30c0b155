"""The session bookings invariants, read straight from trip-catalog's, passes', wallet's, payments' and
bookings' databases after a scenario: seats held are the live bookings' seats and never above
capacity; money and pass sessions taken belong to paid bookings, each taken once; a failed booking
left nothing anywhere; the wallets' balances are the sums of their ledgers."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from services.bookings.domain import derived_id
from tests.reliability.ledger import rows

LIVE = ("pending", "confirmed", "pending_payment")  # bookings that hold their seat
HELD = ("authorized", "captured")  # authorizations that hold (or took) the customer's money
CARD = "tok_visa"  # the card the scenarios pay with (PayBooking's authorization is keyed by it)


@dataclass
class BookingDatabases:
    catalog: str
    passes: str
    wallet: str
    payments: str
    bookings: str


async def _bookings(db: BookingDatabases) -> list:
    return await rows(
        db.bookings,
        "SELECT booking_id, session_id, status, payment_method, payment_status, type, total FROM bookings.bookings",
    )


async def _wallet_moves(db: BookingDatabases) -> tuple[dict, dict]:
    """Money moved per wallet operation (a debit negative, its refund keyed by the debit), and the
    number of debits per operation id."""
    entries = await rows(
        db.wallet, "SELECT operation_id, kind, cash + bonus AS moved, refunds_operation_id FROM wallet.entries"
    )
    net: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    debits: dict[uuid.UUID, int] = defaultdict(int)
    for e in entries:
        net[e.refunds_operation_id or e.operation_id] += e.moved
        debits[e.operation_id] += e.kind == "debit"
    return net, debits


async def booking_problems(db: BookingDatabases) -> dict[str, list]:
    """Every broken invariant; empty lists when all hold."""
    bookings = await _bookings(db)
    sessions = await rows(db.catalog, "SELECT session_id, capacity, booked FROM catalog.sessions")
    holds = await rows(
        db.catalog, "SELECT session_id, booking_id, seats FROM catalog.session_holds WHERE released_at IS NULL"
    )
    usages = dict(await rows(db.passes, "SELECT booking_id, status FROM passes.usages"))
    auths = dict(await rows(db.payments, "SELECT checkout_id, status FROM payments.authorizations"))
    net, _ = await _wallet_moves(db)
    held = {h.booking_id for h in holds}
    seats: dict[uuid.UUID, int] = defaultdict(int)
    for h in holds:
        seats[h.session_id] += h.seats
    live: dict[uuid.UUID, int] = defaultdict(int)
    for b in bookings:
        live[b.session_id] += b.status in LIVE

    def wallet_net(b) -> Decimal:  # the saga's debit and the billing loop's, with their refunds
        return net.get(b.booking_id, Decimal(0)) + net.get(derived_id(b.booking_id, "billing"), Decimal(0))

    def took(b) -> bool:
        card = auths.get(b.booking_id) in HELD or auths.get(derived_id(b.booking_id, f"card:{CARD}")) in HELD
        return bool(wallet_net(b)) or usages.get(b.booking_id) == "consumed" or card

    paid = [b for b in bookings if b.status == "confirmed" and b.payment_status == "paid"]
    return {
        "seats_not_live_bookings": [s.session_id for s in sessions if s.booked != live[s.session_id]],
        "seats_not_holds": [s.session_id for s in sessions if s.booked != seats[s.session_id]],
        "seats_above_capacity": [s.session_id for s in sessions if s.booked > s.capacity],
        "hold_without_live_booking": sorted(held - {b.booking_id for b in bookings if b.status in LIVE}),
        "live_booking_without_hold": [b.booking_id for b in bookings if b.status in LIVE and b.booking_id not in held],
        "failed_left_something": [b.booking_id for b in bookings if b.status == "failed" and took(b)],
        "unpaid_took_money": [b.booking_id for b in bookings if b.payment_status == "unpaid" and took(b)],
        "paid_without_money": [b.booking_id for b in paid if not _paid_by_its_method(b, wallet_net(b), usages, auths)],
        "wallet_not_its_ledger": await wallet_ledger_problems(db),
    }


def _paid_by_its_method(b, moved: Decimal, usages: dict, auths: dict) -> bool:
    if b.payment_method == "pass":
        return usages.get(b.booking_id) == "consumed"
    if b.payment_method == "wallet":
        return moved == -b.total
    return "captured" in (auths.get(b.booking_id), auths.get(derived_id(b.booking_id, f"card:{CARD}")))


async def wallet_ledger_problems(db: BookingDatabases) -> list:
    """Wallets whose balances are not the sums of their entries, or below zero."""
    return await rows(
        db.wallet,
        "SELECT w.customer_id FROM wallet.wallets w LEFT JOIN (SELECT customer_id, company_id, sum(cash) AS cash, "
        "sum(bonus) AS bonus FROM wallet.entries GROUP BY customer_id, company_id) e USING (customer_id, company_id) "
        "WHERE w.cash <> coalesce(e.cash, 0) OR w.bonus <> coalesce(e.bonus, 0) OR w.cash < 0 OR w.bonus < 0",
    )


async def debits_per_booking(db: BookingDatabases) -> dict[uuid.UUID, int]:
    """How many wallet debits each booking has (the saga's and the billing loop's)."""
    _, debits = await _wallet_moves(db)
    return {
        b.booking_id: debits.get(b.booking_id, 0) + debits.get(derived_id(b.booking_id, "billing"), 0)
        for b in await _bookings(db)
    }


async def still_running(db: BookingDatabases) -> list:
    """Bookings not ended yet and sagas not finished (a compensation waiting for a peer)."""
    pending = await rows(db.bookings, "SELECT booking_id FROM bookings.bookings WHERE status = 'pending'")
    open_sagas = await rows(
        db.bookings, "SELECT saga_id FROM bookings.saga_instances WHERE status IN ('running', 'compensating')"
    )
    return [*pending, *open_sagas]
