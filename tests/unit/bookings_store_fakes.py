"""The bookings repository in memory (same answers as repositories.BookingRepository), its unit of
work, and a bookings service assembled on the fakes of bookings_fakes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from services.bookings.booking_saga import SagaPorts, booking_sagas
from services.bookings.domain import INTERRUPTED, Booking, BookingStatus, PaymentStatus, RefundStatus
from services.bookings.handlers import Deps
from services.bookings.ports import Customer, SessionInfo
from services.chassis.outcomes import Outcomes
from services.chassis.saga import SagaRunner
from tests.unit.bookings_fakes import EUR, Cards, Catalog, Customers, Passes, Wallet, World
from tests.unit.saga_fakes import InMemorySagaStore, ManualClock, Sagas


class Bookings:
    def __init__(self, w: World, uow: FakeUnitOfWork) -> None:
        self.w, self.uow = w, uow

    def _free(self, b: uuid.UUID, now: datetime) -> bool:
        until = self.w.claims.get(b, {}).get("until")
        return until is None or until < now

    async def claim(self, bk: Booking) -> bool:
        self.w.calls.append("bookings.claim")
        return self.w.bookings.setdefault(bk.booking_id, bk) is bk

    async def get(self, booking_id):
        return self.w.bookings.get(booking_id)

    async def list_mine(self, user_id, session_id, company_id, position, limit):
        found = [
            b for b in self.w.bookings.values()
            if b.user_id == user_id and session_id in (None, b.session_id) and company_id in (None, b.company_id)
        ]  # fmt: skip
        found.sort(key=lambda b: (b.session_start, b.booking_id), reverse=True)
        if position is not None:
            after = (datetime.fromisoformat(position[0]), uuid.UUID(position[1]))
            found = [b for b in found if (b.session_start, b.booking_id) < after]
        return found[: limit + 1]

    async def of_session(self, session_id):
        return [
            b for b in self.w.bookings.values() if b.session_id == session_id and b.status is not BookingStatus.FAILED
        ]

    async def _move(self, bk: Booking, when) -> bool:
        found = self.w.bookings.get(bk.booking_id)
        if found is None or not when(found):
            return False
        self.w.bookings[bk.booking_id] = bk
        return True

    async def confirm(self, bk):
        self.w.calls.append("bookings.confirm")
        return await self._move(bk, lambda f: f.status is BookingStatus.PENDING)

    async def fail(self, bk):
        self.w.calls.append("bookings.fail")
        found = self.w.bookings.get(bk.booking_id)
        if found is not None and found.failure_reason and bk.failure_reason == INTERRUPTED:
            bk = replace(bk, failure_reason=found.failure_reason)  # the noted cause is kept
        return await self._move(bk, lambda f: f.status is BookingStatus.PENDING)

    async def note_failure(self, booking_id, reason, now):
        found = self.w.bookings.get(booking_id)
        if found is None or found.status is not BookingStatus.PENDING or found.failure_reason:
            return False
        self.w.bookings[booking_id] = replace(found, failure_reason=reason, updated_at=now)
        return True

    async def cancel(self, bk, was, claim_until):
        if not self._free(bk.booking_id, datetime.max.replace(tzinfo=UTC)):
            return False
        if not await self._move(bk, lambda f: f.status is was):
            return False
        self.w.refund_claims[bk.booking_id] = claim_until
        return True

    async def complete_refund(self, bk, held, restored, now):
        found = self.w.bookings[bk.booking_id]
        if self.w.refund_claims.get(bk.booking_id) != held or found.refund.status is RefundStatus.COMPLETED:
            return False
        refund = replace(found.refund, status=RefundStatus.COMPLETED, entitlement_restored=restored, completed_at=now)
        paid = found.payment_status is PaymentStatus.PAID
        status = PaymentStatus.REFUNDED if paid else found.payment_status
        self.w.bookings[bk.booking_id] = replace(found, refund=refund, payment_status=status)
        return True

    async def claim_refunds(self, now, until, limit):
        due = [b for b, held in self.w.refund_claims.items() if held < now]
        due = [b for b in due if self.w.bookings[b].refund.status is RefundStatus.REQUESTED][:limit]
        for b in due:
            self.w.refund_claims[b] = until
        return [(b, until) for b in due]

    async def mark_due_of_session(self, session_id):
        due = [
            b for b in self.w.bookings.values()
            if b.session_id == session_id and b.type.value == "slot_attendee" and b.status is BookingStatus.CONFIRMED
            and b.payment_status is PaymentStatus.UNPAID
        ]  # fmt: skip
        for b in due:
            self.w.claims.setdefault(b.booking_id, {})["due"] = True
        return len(due)

    async def mark_due_of_customer(self, customer_id, company_id):
        due = [
            b for b in self.w.bookings.values()
            if (b.customer_id, b.company_id, b.status) == (customer_id, company_id, BookingStatus.PENDING_PAYMENT)
        ]  # fmt: skip
        for b in due:
            self.w.claims.setdefault(b.booking_id, {})["due"] = True
        return len(due)

    async def claim_due(self, now, until, limit):
        rows = []
        for b, c in self.w.claims.items():
            if c.get("due") and self._free(b, now) and len(rows) < limit:
                c.update(until=until, kind="wallet")
                bk = self.w.bookings[b]
                rows.append(SimpleNamespace(**vars(bk), total=bk.total, claim_key=c.get("key"), claim_until=until))
        return rows

    async def claim_for_card(self, booking_id, key, now, until):
        c = self.w.claims.setdefault(booking_id, {})
        free = c.get("until") is None or (c["until"] < now and c.get("kind") == "card")
        if self.w.bookings[booking_id].status is not BookingStatus.PENDING_PAYMENT or not free:
            return False, None
        old = c.get("key")
        c.update(until=until, kind="card", key=key)
        return True, old

    def _mine(self, booking_id, held) -> bool:
        return self.w.claims.get(booking_id, {}).get("until") == held

    async def paid(self, booking_id, held, method, moves, auth, at):
        if not self._mine(booking_id, held):
            return False
        self.w.claims[booking_id] = {}
        b = self.w.bookings[booking_id]
        self.w.bookings[booking_id] = replace(
            b, status=BookingStatus.CONFIRMED, payment_status=PaymentStatus.PAID, payment_method=method,
            wallet_cash=moves.cash, wallet_bonus=moves.bonus, authorization_id=auth, updated_at=at,
        )  # fmt: skip
        return True

    async def unpaid(self, booking_id, held, at):
        if not self._mine(booking_id, held):
            return False
        self.w.claims[booking_id] = {}
        b = self.w.bookings[booking_id]
        self.w.bookings[booking_id] = replace(b, status=BookingStatus.PENDING_PAYMENT, updated_at=at)
        return True

    async def unclaim(self, booking_id, held):
        if self._mine(booking_id, held):
            self.w.claims[booking_id] = {k: v for k, v in self.w.claims[booking_id].items() if k == "due"}
            return True
        return False


class FakeUnitOfWork:
    def __init__(self, w: World, store: InMemorySagaStore) -> None:
        self.w, self.bookings, self.sagas, self._events = w, None, Sagas(store), []
        self.bookings = Bookings(w, self)

    async def __aenter__(self):
        self._events = []
        return self

    async def __aexit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.w.events += self._events

    def publish(self, event, occurred) -> None:
        self._events.append(event)


class InMemoryBookings:
    def __init__(self) -> None:
        self.world, self.clock, self.store = World(), ManualClock(), InMemorySagaStore()
        w = self.world
        self.wallet, self.cards = Wallet(w), Cards(w)
        self.outcomes: Outcomes = Outcomes(lambda b: b.booking_id)
        uow = lambda **_: FakeUnitOfWork(w, self.store)
        ports = SagaPorts(uow, Catalog(w), Passes(w), self.wallet, self.cards, self.outcomes.settle, self.clock)
        types = {s.name: s for s in booking_sagas(ports)}
        self.runner = SagaRunner(self.store, types, clock=self.clock, retry_backoff_s=0)
        self.deps = Deps(
            uow, self.runner, Customers(w), ports.catalog, ports.passes, self.wallet, self.cards, self.outcomes,
            self.clock, wait_s=1.0,
        )  # fmt: skip
        self.company, self.activity = uuid.uuid4(), uuid.uuid4()
        self.customer = Customer(uuid.uuid4(), self.company, "user-1")
        w.customers[self.customer.customer_id] = self.customer

    def session(self, starts_in_h: float = 24, price: str = "30.00") -> uuid.UUID:
        start = self.clock() + timedelta(hours=starts_in_h)
        sid = uuid.uuid4()
        self.world.sessions[sid] = SessionInfo(
            sid, self.company, self.activity, start, start + timedelta(hours=1), Decimal(price), EUR, True
        )
        return sid
