"""Reconciliation: partner bookings against reservations, commission records against payouts."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date

from services.chassis.protoconv import utcnow
from services.partners.domain import BookingStatus, PartnerBooking
from services.partners.ports import PayoutInfo, ReservationInfo

LIVE = {"pending", "confirmed", "checked_in", "completed", "no_show"}


@dataclass(frozen=True)
class Discrepancy:
    booking_id: uuid.UUID
    # RESERVATION_MISSING | STATUS_MISMATCH | AMOUNT_MISMATCH | PAYOUT_MISSING | PAYOUT_AMOUNT_MISMATCH
    # | PAYOUT_NOT_REVERSED
    kind: str
    detail: str


def discrepancies_of(b: PartnerBooking, r: ReservationInfo | None, payout: PayoutInfo | None) -> list[Discrepancy]:
    found = []
    add = lambda kind, detail: found.append(Discrepancy(b.booking_id, kind, detail))  # noqa: E731
    confirmed = b.status is BookingStatus.CONFIRMED
    if r is None:
        add("RESERVATION_MISSING", f"reservation {b.reservation_id} does not exist")
    else:
        if (r.status in LIVE) != confirmed:
            add("STATUS_MISMATCH", f"booking is {b.status}, reservation is {r.status}")
        if (r.total, r.currency) != (b.gross_amount, b.currency):
            add("AMOUNT_MISMATCH", f"booking {b.gross_amount} {b.currency}, reservation {r.total} {r.currency}")
    if confirmed and (payout is None or payout.status != "owed"):
        add("PAYOUT_MISSING", "no owed payout" if payout is None else "the payout was reversed")
    elif payout is not None and payout.amount != b.commission_amount:
        add("PAYOUT_AMOUNT_MISMATCH", f"commission {b.commission_amount}, payout {payout.amount}")
    if not confirmed and payout is not None and payout.status == "owed":
        add("PAYOUT_NOT_REVERSED", "the booking is cancelled but its payout is still owed")
    return found


async def reconcile(
    partner_id: uuid.UUID | None, start: date, end: date, deps
) -> tuple[uuid.UUID, int, list[Discrepancy]]:
    async with deps.uow() as uow:
        rows = await uow.bookings.created_between(partner_id, start, end)
    bookings = [b for b, _ in rows]
    ledgers = await asyncio.gather(*(deps.ledger.payouts(p) for p in {b.partner_id for b in bookings}))
    payouts = {p.commission_record_id: p for ledger in ledgers for p in ledger}
    limit = asyncio.Semaphore(16)

    async def reservation(b):
        async with limit:
            return await deps.reservations.get(b.reservation_id)

    found = await asyncio.gather(*(reservation(b) for b in bookings))
    issues = [
        d
        for b, r in zip(bookings, found, strict=False)
        for d in discrepancies_of(b, r, payouts.get(b.commission_record_id))
    ]
    run_id, now = uuid.uuid4(), utcnow()
    entry = {
        "reconciliation_id": run_id,
        "partner_id": partner_id,
        "start_date": start,
        "end_date": end,
        "logged_at": now,
    }
    log = [
        {
            **entry,
            "log_id": uuid.uuid4(),
            "booking_id": None,
            "kind": "SUMMARY",
            "detail": f"{len(bookings)} bookings, {len(issues)} discrepancies",
        }
    ]
    log += [
        {**entry, "log_id": uuid.uuid4(), "booking_id": d.booking_id, "kind": d.kind, "detail": d.detail}
        for d in issues
    ]
    async with deps.uow() as uow:
        await uow.bookings.log(log)
    return run_id, len(bookings), issues
