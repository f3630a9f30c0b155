"""Payment and commission use cases: (command, deps) -> result."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.payments import events
from services.payments.commands import ListPayouts
from services.payments.domain import ChargeRequest, CommissionClaim, CommissionPayout, Payment
from services.payments.ports import DuplicatePayment, PaymentProcessor


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # PaymentUnitOfWork, or an in-memory fake in unit tests
    processor: PaymentProcessor
    clock: Callable[[], datetime] = field(default=utcnow)


async def process_payment(request: ChargeRequest, deps: Deps) -> Payment:
    if (stored := await _stored_payment(request, deps)) is not None:
        return stored
    # An outage raises here, before anything is written: the caller retries with the same request_id.
    payment = Payment.processed(request, await deps.processor.charge(request), deps.clock())
    try:
        async with deps.uow() as uow:
            await uow.payments.add(payment)
            uow.publish(events.processed(payment), payment.created_at)
    except DuplicatePayment:  # a concurrent twin stored it first (the processor charged once per key)
        if (twin := await _stored_payment(request, deps)) is None:
            raise
        return twin
    return payment


async def _stored_payment(request: ChargeRequest, deps: Deps) -> Payment | None:
    async with deps.uow() as uow:
        stored = await uow.payments.by_request(request.request_id)
    return stored.answering(request) if stored else None


async def get_payment(payment_id: uuid.UUID, deps: Deps) -> Payment:
    async with deps.uow() as uow:
        payment = await uow.payments.get(payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", reason="PAYMENT_NOT_FOUND")
    return payment


async def process_commission(claim: CommissionClaim, deps: Deps) -> CommissionPayout:
    now = deps.clock()
    async with deps.uow() as uow:
        stored = await uow.payouts.add_or_lock(CommissionPayout.owed(claim, now))
        payout = stored.claimed_by(claim, now)
        if payout != stored:  # a tombstone: the record was reversed before this call arrived
            await uow.payouts.save(payout)
    return payout


async def reverse_commission(commission_record_id: uuid.UUID, reason: str, deps: Deps) -> CommissionPayout | None:
    """The reversed payout; None for a record with no payout (a tombstone is left for it)."""
    now = deps.clock()
    async with deps.uow() as uow:
        stored = await uow.payouts.add_or_lock(CommissionPayout.tombstone(commission_record_id, reason, now))
        payout = stored.reversed(reason, now)
        if payout != stored:
            await uow.payouts.save(payout)
    return None if payout.is_tombstone else payout


async def list_payouts(q: ListPayouts, deps: Deps) -> tuple[list[CommissionPayout], list | None]:
    async with deps.uow() as uow:
        rows = await uow.payouts.search(q.partner_id, q.status, q.position, q.limit)
    return page_of(rows, q.limit, lambda p: [p.created_at.isoformat(), str(p.payout_id)])
