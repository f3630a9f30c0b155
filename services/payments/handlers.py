"""Payment, authorization and commission use cases: (command, deps) -> result."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import FailedPrecondition, NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.payments import events
from services.payments.commands import ListPayouts, VoidAuthorization
from services.payments.domain import (
    Authorization,
    AuthorizationRequest,
    AuthorizationStatus,
    ChargeRequest,
    CommissionClaim,
    CommissionPayout,
    Payment,
)
from services.payments.ports import DuplicatePayment, PaymentProcessor

log = logging.getLogger("novatrek.payments")


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


async def authorize_payment(request: AuthorizationRequest, deps: Deps) -> Authorization:
    async with deps.uow(read_only=True) as uow:
        stored = await uow.authorizations.by_checkout(request.checkout_id)
    if stored is not None:
        return stored.answering(request)
    # Outside any transaction. An outage raises before anything is written; an answer lost after the
    # processor authorized is found again by a retry (keyed by checkout_id) or voided by checkout_id.
    answered = Authorization.answered(request, await deps.processor.authorize(request), deps.clock())
    async with deps.uow(autocommit=True) as uow:  # one statement, or a second to read a twin's row
        if (stored := await uow.authorizations.add(answered)) is None:  # a concurrent twin stored first
            stored = await uow.authorizations.by_checkout(request.checkout_id)
    if stored is None:  # a tombstone: the checkout was voided (compensated) while we were at the processor
        await deps.processor.void(request.checkout_id)
        raise FailedPrecondition(
            f"the authorization of checkout {request.checkout_id} was voided",
            reason="AUTHORIZATION_VOIDED",
            metadata={"checkout_id": str(request.checkout_id)},
        )
    return stored.answering(request)


async def get_authorization(authorization_id: uuid.UUID, deps: Deps) -> Authorization:
    async with deps.uow(read_only=True) as uow:
        return _found(await uow.authorizations.get(authorization_id), authorization_id)


async def capture_payment(authorization_id: uuid.UUID, deps: Deps) -> Authorization:
    async with deps.uow() as uow:
        return await capture_in(uow, authorization_id, deps)


async def capture_in(uow, authorization_id: uuid.UUID, deps: Deps) -> Authorization:
    """In the caller's transaction, the row locked across the processor call: a capture and a void of
    one authorization never both reach the processor. The processor call is keyed, so a rolled-back
    transaction's retry captures once."""
    held = _found(await uow.authorizations.get(authorization_id, for_update=True), authorization_id)
    captured = held.captured(deps.clock())
    if captured != held:
        await deps.processor.capture(held.request.checkout_id)
        await uow.authorizations.save(captured)
    return captured


async def void_authorization(cmd: VoidAuthorization, deps: Deps) -> Authorization | None:
    async with deps.uow() as uow:
        return await void_in(uow, cmd, deps)


async def void_in(uow, cmd: VoidAuthorization, deps: Deps) -> Authorization | None:
    """Voids a hold, refunds a capture (row locked as in capture_in). With no row for a checkout, the
    processor may still hold an authorization whose answer we lost: it is voided by the checkout key,
    and a tombstone stored so that an AuthorizePayment still in flight stores no authorization."""
    repo = uow.authorizations
    if cmd.authorization_id is not None:
        held = await repo.get(cmd.authorization_id, for_update=True)
    else:
        held = await repo.by_checkout(cmd.checkout_id, for_update=True)
    if held is None and cmd.checkout_id is not None:
        # A tombstone first (an AuthorizePayment still in flight then stores nothing), then the void.
        if await repo.add_tombstone(cmd.checkout_id, deps.clock()):
            await deps.processor.void(cmd.checkout_id)
            return None
        held = await repo.by_checkout(cmd.checkout_id, for_update=True)  # stored meanwhile, or a tombstone
    if held is None:
        return None
    cancelled = held.cancelled(deps.clock())
    if cancelled != held:
        undo = deps.processor.void if cancelled.status is AuthorizationStatus.VOIDED else deps.processor.refund
        await undo(held.request.checkout_id)
        await uow.authorizations.save(cancelled)
        log.info("authorization cancelled", extra={"status": cancelled.status.value, "reason": cmd.reason})
    return cancelled


def _found(authorization: Authorization | None, authorization_id: uuid.UUID) -> Authorization:
    if authorization is None:
        raise NotFound(f"authorization {authorization_id} not found", reason="AUTHORIZATION_NOT_FOUND")
    return authorization
