"""Inventory use cases through their handlers, on an in-memory unit of work."""

import uuid
from datetime import timedelta

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound
from services.inventory import handlers
from services.inventory.commands import ReserveInventory, SetStockLevel
from services.inventory.domain import Status, Stock, StockLine
from tests.helpers import FakeClock
from tests.unit.inventory_fakes import FakeInventoryUow, Store


@pytest.fixture
def store() -> Store:
    return Store(stock={"BAG": Stock("BAG", "Dry bag", 10, 0), "MAP": Stock("MAP", "Map", 2, 0)})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(store, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakeInventoryUow.factory(store), default_hold_s=900, clock=clock)


def order(*lines: tuple[str, int], hold_s: int = 0, checkout_id: uuid.UUID | None = None) -> ReserveInventory:
    return ReserveInventory(checkout_id or uuid.uuid4(), tuple(StockLine(*line) for line in lines), hold_s)


async def test_reserve_takes_every_line_with_the_default_hold(deps, store, clock):
    r = await handlers.reserve_inventory(order(("MAP", 2), ("BAG", 3)), deps)
    assert r.status is Status.RESERVED and r.expire_time == clock.now + timedelta(seconds=900)
    assert store.stock["BAG"].reserved == 3 and store.stock["MAP"].available == 0


async def test_a_line_that_does_not_fit_reserves_nothing(deps, store):
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.reserve_inventory(order(("BAG", 3), ("MAP", 3)), deps)
    assert (refused.value.reason, refused.value.metadata) == ("OUT_OF_STOCK", {"sku": "MAP", "available": "2"})
    assert store.stock["BAG"].reserved == 0 and not store.reservations


async def test_a_repeat_answers_the_first_reservation_even_when_a_twin_wrote_it(deps, store):
    cmd = order(("MAP", 2))
    first = await handlers.reserve_inventory(cmd, deps)
    assert await handlers.reserve_inventory(cmd, deps) == first
    with pytest.raises(InvalidArgument):
        await handlers.reserve_inventory(order(("MAP", 1), checkout_id=cmd.checkout_id), deps)
    store.twin_first = True
    twin = order(("BAG", 1))
    assert (await handlers.reserve_inventory(twin, deps)).checkout_id == twin.checkout_id
    assert store.stock["BAG"].reserved == 1


async def test_commit_moves_the_stock_out_and_a_later_release_changes_nothing(deps, store):
    r = await handlers.reserve_inventory(order(("BAG", 4)), deps)
    assert (await handlers.commit_inventory(r.checkout_id, deps)).status is Status.COMMITTED
    assert (await handlers.commit_inventory(r.checkout_id, deps)).status is Status.COMMITTED
    assert (await handlers.release_inventory(r.checkout_id, deps)).status is Status.COMMITTED
    assert store.stock["BAG"] == Stock("BAG", "Dry bag", 6, 0)


async def test_release_gives_the_stock_back_once_and_then_refuses_a_commit(deps, store):
    r = await handlers.reserve_inventory(order(("BAG", 4)), deps)
    for _ in range(2):
        assert (await handlers.release_inventory(r.checkout_id, deps)).status is Status.RELEASED
    assert store.stock["BAG"] == Stock("BAG", "Dry bag", 10, 0)
    with pytest.raises(FailedPrecondition, match="released"):
        await handlers.commit_inventory(r.checkout_id, deps)
    assert await handlers.release_inventory(uuid.uuid4(), deps) is None
    with pytest.raises(NotFound):
        await handlers.commit_inventory(uuid.uuid4(), deps)


async def test_a_checkout_released_before_it_reserved_reserves_nothing(deps, store):
    checkout = uuid.uuid4()
    for _ in range(2):
        assert await handlers.release_inventory(checkout, deps) is None
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.reserve_inventory(order(("BAG", 4), checkout_id=checkout), deps)
    assert refused.value.reason == "RESERVATION_RELEASED" and store.stock["BAG"].reserved == 0


async def test_expired_reservations_are_released_in_batches_and_cannot_be_committed(deps, store, clock):
    made = [await handlers.reserve_inventory(order(("BAG", 1), hold_s=60), deps) for _ in range(5)]
    keeps = await handlers.reserve_inventory(order(("BAG", 1), hold_s=600), deps)
    clock.advance(seconds=61)
    with pytest.raises(FailedPrecondition):  # expired, though not swept yet
        await handlers.commit_inventory(made[0].checkout_id, deps)
    assert await handlers.release_expired(deps, batch=2) == 5
    assert store.stock["BAG"].reserved == 1 and store.reservations[keeps.checkout_id].status is Status.RESERVED
    assert await handlers.release_expired(deps, batch=2) == 0


async def test_a_reservation_held_for_its_order_never_expires_and_commits_later(deps, store, clock):
    held = await handlers.reserve_inventory(order(("BAG", 3), hold_s=60), deps)
    async with deps.uow() as uow:
        assert await handlers.hold_in(uow, held.checkout_id, uuid.uuid4(), clock())
    clock.advance(seconds=61)
    assert await handlers.release_expired(deps, batch=10) == 0
    assert (await handlers.commit_inventory(held.checkout_id, deps)).status is Status.COMMITTED
    assert store.stock["BAG"] == Stock("BAG", "Dry bag", 7, 0)
    async with deps.uow() as uow:  # settled: nothing left to hold
        assert not await handlers.hold_in(uow, held.checkout_id, uuid.uuid4(), clock())


async def test_stock_levels(deps, store):
    assert await handlers.set_stock_level(SetStockLevel("TENT", "Tent", 3), deps) == Stock("TENT", "Tent", 3, 0)
    await handlers.reserve_inventory(order(("TENT", 2)), deps)
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.set_stock_level(SetStockLevel("TENT", "", 1), deps)
    assert refused.value.reason == "STOCK_BELOW_RESERVED"
    assert await handlers.set_stock_level(SetStockLevel("TENT", "", 2), deps) == Stock("TENT", "Tent", 2, 2)
    with pytest.raises(InvalidArgument):
        await handlers.set_stock_level(SetStockLevel("NEW", "", 2), deps)
    with pytest.raises(NotFound):
        await handlers.get_stock("NEW", deps)
