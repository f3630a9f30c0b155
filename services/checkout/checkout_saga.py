"""The Checkout Saga on the chassis runner: Reserve Inventory -> Authorize Payment -> Create Order,
each compensated, then the checkout's own end (its pivot).

Every remote step is keyed by the checkout id, so a step repeated after a crash or a lost answer
does its work once, and its compensation can always run: release and void go by checkout id (the
void reaches the processor even when the authorization's answer was lost), and the order id is
derived from the checkout id. The pivot is the last step: once the order exists (create_order's
result persisted) the checkout is complete and recovery only drives it forward; a failure of any
earlier step, or a crash before it, is compensated in reverse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.chassis.saga import SagaType, Step
from services.chassis.uow import UnitOfWorkFactory
from services.checkout import events
from services.checkout.domain import Checkout
from services.checkout.ports import Inventory, Orders, Payments
from services.checkout.saga_state import CheckoutSagaState

SAGA = "checkout"
UNDONE = "checkout failed"  # the reason the compensations give


@dataclass
class SagaPorts:
    uow: UnitOfWorkFactory[Any]  # CheckoutUnitOfWork, or an in-memory fake in unit tests
    inventory: Inventory
    payments: Payments
    orders: Orders
    settled: Callable[[Checkout], None]  # told each checkout's end (waiting callers)
    clock: Callable[[], datetime]
    stock_hold_s: int = 86400


def checkout_saga(p: SagaPorts) -> SagaType[CheckoutSagaState]:
    async def reserve_inventory(s: CheckoutSagaState) -> None:
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
        await _settle(p, s.completed(p.clock()))

    async def fail(s: CheckoutSagaState, error: BaseException | None) -> None:
        await _settle(p, s.failed(error, p.clock()))

    return SagaType(
        SAGA,
        CheckoutSagaState,
        [
            Step("reserve_inventory", reserve_inventory, release_inventory),
            Step("authorize_payment", authorize_payment, void_authorization),
            Step("create_order", create_order, cancel_order),
            Step("complete_checkout", complete),
        ],
        on_compensated=fail,
        pivot=3,  # the order exists: only forward from here
    )


async def _settle(p: SagaPorts, end: Checkout) -> None:
    """The checkout's end and its event, one statement; a repeat (recovery) writes nothing and
    answers what was written first."""
    async with p.uow(autocommit=True) as uow:
        if not await uow.checkouts.settle(end, uow.event_row(events.of(end), end.updated_at)):
            end = await uow.checkouts.get(end.checkout_id)
    p.settled(end)
