"""The Checkout Saga on the chassis runner against in-memory fakes of its ports and store: the order
placed, each failing step compensated with every earlier one in reverse, the pivot, recovery of a
crashed checkout before and after its order, and idempotency per cart."""

import asyncio
import logging
import uuid

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.chassis.saga import SagaFailed, dump_state
from services.checkout.checkout_saga import SAGA
from services.checkout.domain import Checkout, CheckoutState
from services.checkout.handlers import checkout_cart
from services.checkout.saga_state import CheckoutSagaState
from tests.unit.checkout_fakes import InMemoryCheckout, cart

FORWARD = ["inventory.reserve", "payments.authorize", "orders.create"]
UNDO = dict(zip(FORWARD, ["inventory.release", "payments.void", "orders.cancel"], strict=True))


def nothing_left(service: InMemoryCheckout) -> bool:
    w = service.world
    return not (w.reserved or w.authorized or w.orders)


async def test_a_checkout_reserves_authorizes_orders_and_completes_once():
    service = InMemoryCheckout()
    done = await checkout_cart(cart(), service.deps)
    assert service.world.calls == ["checkouts.start", *FORWARD, "checkouts.settle"]
    assert (done.state, done.authorization_id[:5]) == (CheckoutState.COMPLETED, "auth-") and done.order_id
    assert service.world.checkouts[done.checkout_id] == done and len(service.world.events) == 1
    row = service.store.only()
    assert (row["status"], row["steps_done"]) == ("completed", 4)


@pytest.mark.parametrize(
    ("failing", "error", "reason"),
    [
        ("inventory.reserve", FailedPrecondition("short", reason="OUT_OF_STOCK"), "OUT_OF_STOCK"),
        ("payments.authorize", Unavailable("payments is unavailable"), "DEPENDENCY_UNAVAILABLE"),
        ("orders.create", Unavailable("orders is unavailable"), "DEPENDENCY_UNAVAILABLE"),
        # a retried CreateOrder that an earlier CancelOrder's tombstone refuses
        ("orders.create", FailedPrecondition("cancelled first", reason="ORDER_CANCELLED"), "ORDER_CANCELLED"),
    ],
)
async def test_a_failing_step_is_compensated_with_every_earlier_one_in_reverse(failing, error, reason):
    service = InMemoryCheckout()
    service.world.failing[failing] = error
    failed = await checkout_cart(cart(), service.deps)
    done = FORWARD[: FORWARD.index(failing) + 1]  # the failing step's answer may be lost: undone too
    undone = [UNDO[step] for step in reversed(done)]
    assert service.world.calls == ["checkouts.start", *done, "checkouts.note_failure", *undone, "checkouts.settle"]
    assert (failed.state, failed.failure_reason, failed.order_id) == (CheckoutState.FAILED, reason, None)
    assert nothing_left(service) and service.store.only()["status"] == "compensated"


async def test_a_saga_whose_checkout_is_gone_is_still_compensated_and_ends_cleanly(caplog):
    service = InMemoryCheckout()
    service.world.failing["inventory.reserve"] = FailedPrecondition("short", reason="OUT_OF_STOCK")
    orphan = cart()  # its checkout row was freed (abandoned) while the saga was recorded
    with pytest.raises(SagaFailed):
        await service.runner.run(SAGA, CheckoutSagaState(orphan, service.clock()))
    assert service.world.checkouts == {} and service.store.only()["status"] == "compensated"
    assert service.world.calls[-2:] == ["inventory.release", "checkouts.settle"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []  # not left compensating


async def test_a_declined_payment_is_a_failed_checkout():
    service = InMemoryCheckout()
    failed = await checkout_cart(cart("decline"), service.deps)
    assert (failed.state, failed.failure_reason) == (CheckoutState.FAILED, "PAYMENT_DECLINED")
    assert nothing_left(service)


async def test_a_compensation_waiting_for_a_peer_leaves_the_checkout_running_with_its_reason_until_recovery():
    service = InMemoryCheckout()
    service.world.failing["orders.create"] = Unavailable("orders is unavailable")
    service.world.failing["orders.cancel"] = Unavailable("orders is unavailable")
    pending = await checkout_cart(cart(), service.deps)
    assert (pending.state, pending.failure_reason) == (CheckoutState.RUNNING, "DEPENDENCY_UNAVAILABLE")
    assert not service.world.reserved and not service.world.authorized  # the others were undone
    del service.world.failing["orders.cancel"]  # orders is back
    service.clock.advance(service.runner.lease_s + 1)
    assert await service.runner.recover_once() == 1
    failed = service.world.checkouts[pending.checkout_id]
    assert (failed.state, failed.failure_message) == (CheckoutState.FAILED, "orders is unavailable")
    assert nothing_left(service)


async def test_past_its_pivot_a_checkout_is_completed_by_recovery_never_undone():
    service = InMemoryCheckout()
    c = cart()
    running = Checkout.start(c, service.clock())
    service.world.checkouts[running.checkout_id] = running
    state = CheckoutSagaState(c, running.created_at, "auth-1", uuid.uuid4())
    await crashed(service, state, steps_done=3)  # the order exists; the process died before its end
    assert await service.runner.recover_once() == 1
    assert service.world.calls == ["checkouts.settle"]
    assert service.world.checkouts[running.checkout_id].state is CheckoutState.COMPLETED


async def test_a_checkout_that_crashed_before_its_order_is_compensated_as_interrupted():
    service = InMemoryCheckout()
    c = cart()
    service.world.checkouts[c.checkout_id] = Checkout.start(c, service.clock())
    service.world.reserved.add(c.checkout_id)
    service.world.authorized.add(c.checkout_id)
    await crashed(service, CheckoutSagaState(c, service.clock()), steps_done=1)  # died authorizing
    assert await service.runner.recover_once() == 1
    assert service.world.calls == ["payments.void", "inventory.release", "checkouts.settle"]  # to its last step
    failed = service.world.checkouts[c.checkout_id]
    assert (failed.state, failed.failure_reason) == (CheckoutState.FAILED, "CHECKOUT_INTERRUPTED")
    assert nothing_left(service)


async def crashed(service: InMemoryCheckout, state: CheckoutSagaState, steps_done: int) -> None:
    values = {"saga_type": "checkout", "status": "running", "steps_done": steps_done, "state": dump_state(state)}
    await service.store.insert(uuid.uuid4(), {**values, "lease_until": service.clock(), "created_at": service.clock()})
    service.clock.advance(1)


async def test_twins_of_a_cart_share_its_one_checkout_and_another_body_is_refused():
    service = InMemoryCheckout()
    c = cart()
    answers = await asyncio.gather(*(checkout_cart(c, service.deps) for _ in range(5)))
    assert len({a.checkout_id for a in answers}) == 1 and all(a == answers[0] for a in answers)
    assert service.world.calls.count("orders.create") == 1
    other = type(c)(c.cart_id, c.guest_id, c.lines, "tok_other")
    with pytest.raises(InvalidArgument) as refused:
        await checkout_cart(other, service.deps)
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_saga_recorded_after_half_its_lease_runs_no_step():
    """Recovery may have failed its checkout as interrupted meanwhile (no saga then): take nothing."""
    service = InMemoryCheckout()
    c = cart()
    service.world.checkouts[c.checkout_id] = Checkout.start(c, service.clock())
    service.clock.advance(service.runner.lease_s / 2 + 1)  # the claim was that long ago
    with pytest.raises(SagaFailed):
        await service.runner.run("checkout", CheckoutSagaState(c, service.world.checkouts[c.checkout_id].created_at))
    assert "inventory.reserve" not in service.world.calls and nothing_left(service)
    assert service.world.checkouts[c.checkout_id].failure_reason == "CHECKOUT_INTERRUPTED"
