"""Checkout use cases: (command, deps) -> result."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from services.chassis.errors import FieldViolation, InvalidArgument, NotFound, Unavailable
from services.chassis.outcomes import until_ended
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaFailed, SagaNotStarted
from services.chassis.uow import UnitOfWorkFactory
from services.checkout import events
from services.checkout.checkout_saga import SAGA
from services.checkout.commands import CheckoutCart
from services.checkout.domain import Checkout
from services.checkout.outcomes import Outcomes
from services.checkout.saga_state import CheckoutSagaState

log = logging.getLogger("novatrek.checkout")


class Sagas(Protocol):
    async def run(self, saga_type: str, state: CheckoutSagaState) -> CheckoutSagaState: ...


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # CheckoutUnitOfWork, or an in-memory fake in unit tests
    sagas: Sagas
    outcomes: Outcomes
    clock: Callable[[], datetime] = utcnow
    wait_s: float = 20.0  # how long a caller without deadline waits for a checkout's end


async def checkout_cart(cart: CheckoutCart, deps: Deps) -> Checkout:
    """Runs the cart's saga, or answers the cart's checkout that ran (or is running) already."""
    fresh = Checkout.start(cart, deps.clock())
    with deps.outcomes.watching(fresh.checkout_id) as ended:
        async with deps.uow(autocommit=True) as uow:
            started = await uow.checkouts.start(fresh)
        if started:
            return await _run(fresh, cart, ended, deps)
        return await _awaited(cart, ended, deps)


async def _run(fresh: Checkout, cart: CheckoutCart, ended: asyncio.Future[Checkout], deps: Deps) -> Checkout:
    try:
        await deps.sagas.run(SAGA, CheckoutSagaState(cart, fresh.created_at))
    except SagaNotStarted as exc:  # nothing ran: free the cart for a retry, unless the saga was recorded
        async with deps.uow(autocommit=True) as uow:
            if not await uow.checkouts.abandon(fresh.checkout_id):
                log.warning(
                    "saga recorded, answer lost: left for recovery", extra={"checkout_id": str(fresh.checkout_id)}
                )
        raise Unavailable("the checkout could not be started; retry later") from exc
    except SagaFailed:
        pass  # compensated: its end is the answer
    except Exception as exc:  # past the pivot: recovery finishes it
        log.warning("checkout left for recovery", extra={"checkout_id": str(fresh.checkout_id), "error": repr(exc)})
    return ended.result() if ended.done() else await _read(fresh.checkout_id, deps)


async def _awaited(cart: CheckoutCart, ended: asyncio.Future[Checkout], deps: Deps) -> Checkout:
    """The cart's checkout once it ended, or as it stands when the caller's time is nearly up."""

    async def read() -> Checkout:
        found = await _read(cart.checkout_id, deps)
        if found.fingerprint != cart.fingerprint:
            raise InvalidArgument(
                "this cart was checked out with another body",
                reason="IDEMPOTENCY_KEY_REUSED",
                violations=[FieldViolation("cart_id", "was checked out with other lines, guest or payment method")],
            )
        return found

    return await until_ended(read, lambda found: found.running, ended, deps.wait_s)


async def fail_unrecorded(deps: Deps, lease_s: float, batch: int = 100) -> int:
    """Fails the checkouts whose process died between claiming the cart and recording its saga, once
    their lease is over: no step runs before the saga is recorded (nor after, if that comes too late:
    checkout_saga's first step), so nothing is undone. Each end, CHECKOUT_INTERRUPTED with its event,
    is one statement, written only if the saga is still missing."""
    now = deps.clock()
    async with deps.uow(read_only=True) as uow:
        found = await uow.checkouts.unrecorded(now - timedelta(seconds=lease_s), batch)
    for claimed in found:
        end = claimed.interrupted(now)
        async with deps.uow(autocommit=True) as uow:
            if await uow.checkouts.settle(end, uow.event_row(events.of(end), now), unrecorded=True):
                log.warning("interrupted checkout failed", extra={"checkout_id": str(end.checkout_id)})
                deps.outcomes.settle(end)
    return len(found)


async def _read(checkout_id: uuid.UUID, deps: Deps) -> Checkout:
    async with deps.uow(read_only=True) as uow:
        found = await uow.checkouts.get(checkout_id)
    if found is None:
        raise NotFound(f"checkout {checkout_id} not found", reason="CHECKOUT_NOT_FOUND")
    return found


get_checkout = _read
