"""The bookings repository (rows <-> domain, over the statements of statements.py) and the unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.bookings import statements as q
from services.bookings.db import bookings, sagas
from services.bookings.domain import (
    Booking,
    BookingExtra,
    BookingStatus,
    BookingType,
    PaymentMethod,
    PaymentStatus,
    RefundRequest,
    RefundStatus,
)
from services.bookings.ports import WalletMoves
from services.chassis.db import UnitOfWork, page_params
from services.chassis.money import quantize
from services.chassis.saga_store import SagaRows

_STORED = [c.key for c in bookings.c if c.key not in q.CLAIM_COLUMNS]


def _row(bk: Booking) -> dict[str, Any]:
    row = {k: getattr(bk, k, None) for k in _STORED}
    enums = {k: getattr(bk, k).value for k in ("type", "status", "payment_method", "payment_status")}
    return row | enums | {"total": bk.total}


def _refund(row: Any, currency: str) -> RefundRequest | None:
    if row.refund_refund_request_id is None:
        return None
    return RefundRequest(
        row.refund_refund_request_id,
        RefundStatus(row.refund_status),
        quantize(row.refund_amount, currency),
        quantize(row.refund_wallet_cash, currency),
        quantize(row.refund_wallet_bonus, currency),
        row.refund_entitlement_restored,
        row.refund_reason,
        row.refund_created_at,
        row.refund_completed_at,
    )


def booking_of(row: Any) -> Booking:
    c = row.currency
    extras = tuple(
        BookingExtra(uuid.UUID(x["extra_id"]), x["name"], quantize(Decimal(x["unit_price"]), c), x["quantity"])
        for x in row.extras
    )
    return Booking(
        row.booking_id,
        row.session_id,
        row.company_id,
        row.activity_id,
        row.customer_id,
        row.user_id,
        BookingType(row.type),
        BookingStatus(row.status),
        PaymentMethod(row.payment_method),
        PaymentStatus(row.payment_status),
        row.session_start,
        row.session_end,
        quantize(row.price, c),
        c,
        extras,
        row.fingerprint,
        row.created_at,
        row.updated_at,
        row.entitlement_id,
        quantize(row.wallet_cash, c),
        quantize(row.wallet_bonus, c),
        row.authorization_id,
        row.failure_reason,
        _refund(row, c),
        row.guest_id,
    )


class BookingRepository:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def claim(self, bk: Booking) -> bool:
        """Writes a new pending booking with its extras; False (nothing written) when the id is taken."""
        if (await self.conn.execute(q.CLAIM, _row(bk))).first() is None:
            return False
        if bk.extras:
            lines = [{"booking_id": bk.booking_id, "line": i, **vars(x)} for i, x in enumerate(bk.extras)]
            await self.conn.execute(q.ADD_EXTRAS, lines)
        return True

    async def get(self, booking_id: uuid.UUID) -> Booking | None:
        row = (await self.conn.execute(q.GET, {"p_booking": booking_id})).first()
        return booking_of(row) if row else None

    async def list_mine(
        self, user_id: str, session_id: uuid.UUID | None, company_id: uuid.UUID | None, position: Any, limit: int
    ) -> list[Booking]:
        pages, params = q.LIST_MINE, dict[str, Any](p_user=user_id)
        if session_id is not None:
            pages, params = q.LIST_MINE_OF_SESSION, params | {"p_session": session_id}
        elif company_id is not None:
            pages, params = q.LIST_MINE_AT_COMPANY, params | {"p_company": company_id}
        rows = await self.conn.execute(pages[position is not None], params | page_params(position, limit))
        return [booking_of(row) for row in rows]

    async def of_session(self, session_id: uuid.UUID) -> list[Booking]:
        """The bookings of a session that held a seat (not FAILED), oldest first (the session view)."""
        return [booking_of(row) for row in await self.conn.execute(q.OF_SESSION, {"p_session": session_id})]

    async def confirm(self, bk: Booking) -> bool:
        params: dict[str, Any] = {"p_booking": bk.booking_id, "p_status": bk.status.value}
        params |= {"p_payment_status": bk.payment_status.value}
        params |= {"p_wallet_cash": bk.wallet_cash, "p_wallet_bonus": bk.wallet_bonus}
        params |= {"p_authorization_id": bk.authorization_id, "p_now": bk.updated_at}
        return (await self.conn.execute(q.CONFIRM, params)).first() is not None

    async def fail(self, bk: Booking) -> bool:
        params = {"p_booking": bk.booking_id, "p_reason": bk.failure_reason, "p_now": bk.updated_at}
        return (await self.conn.execute(q.FAIL, params)).first() is not None

    async def note_failure(self, booking_id: uuid.UUID, reason: str, now: datetime) -> bool:
        """Why a pending booking is failing, while its compensation waits for a peer."""
        params = {"p_booking": booking_id, "p_reason": reason, "p_now": now}
        return (await self.conn.execute(q.NOTE_FAILURE, params)).first() is not None

    async def cancel(self, bk: Booking, was: BookingStatus, claim_until: datetime) -> bool:
        """Cancels it if still `was` and no payment is being taken, recording its refund request
        (owned until `claim_until` by the caller); False when it changed meanwhile."""
        params = {"p_booking": bk.booking_id, "p_was": was.value, "p_now": bk.updated_at}
        if (await self.conn.execute(q.CANCEL, params)).first() is None or bk.refund is None:
            return False
        refund = {k: getattr(bk.refund, k) for k in ("refund_request_id", "amount", "wallet_cash", "wallet_bonus")}
        refund |= {"entitlement_restored": False, "reason": bk.refund.reason, "created_at": bk.updated_at}
        refund |= {"booking_id": bk.booking_id, "status": "requested", "claim_until": claim_until}
        await self.conn.execute(q.ADD_REFUND, refund)
        return True

    async def complete_refund(self, bk: Booking, held: datetime, restored: bool, now: datetime) -> bool:
        params = {"p_booking": bk.booking_id, "p_held": held, "p_restored": restored, "p_at": now}
        if (await self.conn.execute(q.COMPLETE_REFUND, params)).first() is None:
            return False
        await self.conn.execute(q.MARK_REFUNDED, {"p_booking": bk.booking_id, "p_at": now})
        return True

    async def claim_refunds(self, now: datetime, until: datetime, limit: int) -> list[tuple[uuid.UUID, datetime]]:
        rows = await self.conn.execute(q.CLAIM_REFUNDS, {"p_now": now, "p_until": until, "p_limit": limit})
        return [(row.booking_id, row.claim_until) for row in rows]

    async def mark_due_of_session(self, session_id: uuid.UUID) -> int:
        return int((await self.conn.execute(q.MARK_DUE_OF_SESSION, {"p_session": session_id})).rowcount)

    async def mark_due_of_customer(self, customer_id: uuid.UUID, company_id: uuid.UUID) -> int:
        params = {"p_customer": customer_id, "p_company": company_id}
        return int((await self.conn.execute(q.MARK_DUE_OF_CUSTOMER, params)).rowcount)

    async def claim_due(self, now: datetime, until: datetime, limit: int) -> Sequence[Any]:
        """Rows (booking_id, customer_id, company_id, activity_id, total, currency, claim_key, claim_until)."""
        return list(await self.conn.execute(q.CLAIM_DUE, {"p_now": now, "p_until": until, "p_limit": limit}))

    async def claim_for_card(
        self, booking_id: uuid.UUID, key: uuid.UUID, now: datetime, until: datetime
    ) -> tuple[bool, uuid.UUID | None]:
        """(claimed, the key of an earlier card attempt left unfinished)."""
        params = {"p_booking": booking_id, "p_key": key, "p_now": now, "p_until": until}
        row = (await self.conn.execute(q.CLAIM_FOR_CARD, params)).first()
        return (row is not None, row.old_key if row is not None else None)

    async def paid(
        self, booking_id: uuid.UUID, held: datetime, method: PaymentMethod, moves: WalletMoves, auth: str, at: datetime
    ) -> bool:
        params = {"p_booking": booking_id, "p_held": held, "p_method": method.value, "p_authorization_id": auth}
        params |= {"p_wallet_cash": moves.cash, "p_wallet_bonus": moves.bonus, "p_at": at}
        return (await self.conn.execute(q.PAID, params)).first() is not None

    async def unpaid(self, booking_id: uuid.UUID, held: datetime, at: datetime) -> bool:
        params = {"p_booking": booking_id, "p_held": held, "p_at": at}
        return (await self.conn.execute(q.UNPAID, params)).first() is not None

    async def unclaim(self, booking_id: uuid.UUID, held: datetime) -> bool:
        return (await self.conn.execute(q.UNCLAIM, {"p_booking": booking_id, "p_held": held})).first() is not None


class BookingUnitOfWork(UnitOfWork):
    bookings: BookingRepository
    sagas: SagaRows

    def bind(self, conn: Any) -> None:
        self.bookings = BookingRepository(conn)
        self.sagas = SagaRows(conn, sagas)  # the opening rides in the claim, the completion in the confirm
