"""The Checkout Saga on the chassis runner: Reserve Inventory -> Authorize Payment -> Create Order,
each compensated, then the checkout's own end (its pivot).

Every remote step is keyed by the checkout id, so a step repeated after a crash or a lost answer
does its work once, and its compensation can always run: release and void go by checkout id (the
void reaches the processor even when the authorization's answer was lost), and the order id is
derived from the checkout id. The pivot is the last step: once the order exists (create_order's
result persisted) the checkout is complete and recovery only drives it forward; a failure of any
earlier step, or a crash before it, is compensated in reverse."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.chassis.saga import SagaType, Step, running_saga
from services.chassis.uow import UnitOfWorkFactory
from services.checkout import events
from services.checkout.domain import Checkout, StartedTooLate, failure_of
from services.checkout.ports import Inventory, Orders, Payments
from services.checkout.saga_state import CheckoutSagaState

log = logging.getLogger("novatrek.checkout.saga")
SAGA = "checkout"
UNDONE = "checkout failed"  # the reason the compensations give
Action = Callable[[CheckoutSagaState], Awaitable[CheckoutSagaState | None]]


@dataclass
class SagaPorts:
    uow: UnitOfWorkFactory[Any]  # CheckoutUnitOfWork, or an in-memory fake in unit tests
    inventory: Inventory
    payments: Payments
    orders: Orders
    settled: Callable[[Checkout], None]  # told each checkout's end (waiting callers)
    clock: Callable[[], datetime]
    stock_hold_s: int = 86400
    # A saga recorded later than this after its cart was claimed runs no step: past the lease, recovery
    # fails a claimed checkout with no saga (handlers.fail_unrecorded). Half the lease: room for skew.
    start_within_s: float = 15.0


def checkout_saga(p: SagaPorts) -> SagaType[CheckoutSagaState]:
    async def reserve_inventory(s: CheckoutSagaState) -> None:
        if p.clock() - s.created_at > timedelta(seconds=p.start_within_s):
            raise StartedTooLate()  # recovery may have failed it (fail_unrecorded): take nothing
        await p.inventory.reserve(s.checkout_id, s.cart.lines, p.stock_hold_s)

    async def release_inventory(s: CheckoutSagaState) -> None:
        await p.inventory.release(s.checkout_id)

    async def authorize_payment(s: CheckoutSagaState) -> CheckoutSagaState:
        c = s.cart
        auth = await p.payments.authorize(s.checkout_id, c.guest_id, c.total, c.currency, c.payment_method_token)
        return replace(s, authorization_id=auth)

    async def void_authorization(s: CheckoutSagaState) -> None:
        await p.payments.void(s.checkout_id, UNDONE)

    async def create_order(s: CheckoutSagaState) -> CheckoutSagaState:
        order_id = await p.orders.create(s.checkout_id, s.cart.guest_id, s.cart.lines, s.authorization_id)
        return replace(s, order_id=order_id)

    async def cancel_order(s: CheckoutSagaState) -> None:
        await p.orders.cancel(s.checkout_id, UNDONE)

    async def complete(s: CheckoutSagaState) -> None:
        """The checkout's end, its event and the saga's completion: one transaction (DESIGN §8)."""
        end = s.completed(p.clock())
        await _settle(p, end, saga.completion(s, end.updated_at))

    async def fail(s: CheckoutSagaState, error: BaseException | None) -> None:
        reason, message = failure_of(error) if error else await _noted(p, s)
        await _settle(p, s.failed(reason, message, p.clock()))

    saga = SagaType(
        SAGA,
        CheckoutSagaState,
        [
            Step("reserve_inventory", _noting(p, reserve_inventory), release_inventory),
            Step("authorize_payment", _noting(p, authorize_payment), void_authorization),
            Step("create_order", _noting(p, create_order), cancel_order),
            Step("complete_checkout", complete, completes=True),
        ],
        on_compensated=fail,
        pivot=3,  # the order exists: only forward from here
    )
    return saga


def _noting(p: SagaPorts, action: Action) -> Action:
    """The step, noting on the checkout why it failed before the runner compensates: a compensation
    that waits for a peer (or a crash) leaves the checkout running, and its reason is shown meanwhile
    and kept for the end recovery writes."""

    async def noted(s: CheckoutSagaState) -> CheckoutSagaState | None:
        try:
            return await action(s)
        except Exception as error:
            try:
                async with p.uow(autocommit=True) as uow:
                    await uow.checkouts.note_failure(s.checkout_id, *failure_of(error))
            except Exception as unnoted:  # the compensation matters more than the note
                log.warning("failure not noted", extra={"checkout_id": str(s.checkout_id), "error": repr(unnoted)})
            raise

    return noted


async def _noted(p: SagaPorts, s: CheckoutSagaState) -> tuple[str, str]:
    """Why a checkout that recovery compensated failed: as noted, or interrupted (a crash)."""
    async with p.uow(read_only=True) as uow:
        found = await uow.checkouts.get(s.checkout_id)
    return (found.failure_reason, found.failure_message) if found and found.failure_reason else failure_of(None)


async def _settle(p: SagaPorts, end: Checkout, saga_done: dict[str, Any] | None = None) -> None:
    """The checkout's end and its event, one statement; a repeat (recovery) writes nothing and
    answers what was written first. `saga_done`: the saga's completion, written in the same
    transaction (the last step's, so the runner writes nothing after it)."""
    stored: Checkout | None = end
    async with p.uow(autocommit=saga_done is None) as uow:
        if not await uow.checkouts.settle(end, uow.event_row(events.of(end), end.updated_at)):
            stored = await uow.checkouts.get(end.checkout_id)
        if saga_done is not None:
            await uow.sagas.complete(running_saga.get(), saga_done)
    if stored is None:  # no checkout to end (its cart was freed, so nobody waits on it): nothing to tell
        log.warning("saga ended without its checkout", extra={"checkout_id": str(end.checkout_id)})
        return
    p.settled(stored)
