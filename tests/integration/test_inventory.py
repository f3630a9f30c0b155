"""inventory through gRPC on real PostgreSQL and NATS: all-or-none reservations that never oversell,
idempotency, expiry, and the order events that commit or release a checkout's stock once."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nats
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp
from novatrek.inventory.v1 import inventory_pb2 as pb
from novatrek.inventory.v1 import inventory_pb2_grpc
from novatrek.orders.v1 import events_pb2 as order_events
from sqlalchemy.ext.asyncio import create_async_engine

from clients.inventory import InventoryClient
from services.chassis.broker import Broker
from services.chassis.errors import FailedPrecondition
from services.inventory.config import InventorySettings
from services.inventory.main import build
from tests.helpers import eventually, fails
from tests.integration.conftest import fresh_database, serve

RESERVED = pb.STOCK_RESERVATION_STATUS_RESERVED
COMMITTED = pb.STOCK_RESERVATION_STATUS_COMMITTED
RELEASED = pb.STOCK_RESERVATION_STATUS_RELEASED


@pytest.fixture(scope="module")
async def inventory(make_database, nats_url):
    database = await fresh_database(make_database, "inventory", "inventory")
    running = await serve(build, InventorySettings, database, nats_url=nats_url, expiry_interval_s=0.2)
    yield running
    await running.stop()


@pytest.fixture
def stub(inventory):
    return inventory_pb2_grpc.InventoryServiceStub(inventory.channel)


@pytest.fixture(scope="module")
async def db(inventory):
    engine = create_async_engine(inventory.database_url)
    yield engine
    await engine.dispose()


def new_sku(prefix: str = "SKU") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


async def stocked(stub, on_hand: int, name: str = "Dry bag 20 L") -> str:
    sku = new_sku()
    await stub.SetStockLevel(pb.SetStockLevelRequest(sku=sku, name=name, on_hand=on_hand))
    return sku


def reserve(checkout_id: str, *lines: tuple[str, int], hold_seconds: int = 0) -> pb.ReserveInventoryRequest:
    return pb.ReserveInventoryRequest(
        checkout_id=checkout_id,
        lines=[pb.StockLine(sku=sku, quantity=quantity) for sku, quantity in lines],
        hold_seconds=hold_seconds,
    )


async def stock_of(stub, sku: str) -> tuple[int, int, int]:
    s = (await stub.GetStock(pb.GetStockRequest(sku=sku))).stock
    return s.on_hand, s.reserved, s.available


async def test_reserve_commit_and_release(stub):
    bag, map_ = await stocked(stub, 10), await stocked(stub, 3)
    checkout = str(uuid.uuid4())
    made = (await stub.ReserveInventory(reserve(checkout, (map_, 2), (bag, 4)))).reservation
    assert made.status == RESERVED and sorted((x.sku, x.quantity) for x in made.lines) == sorted([(bag, 4), (map_, 2)])
    assert made.expire_time.ToSeconds() - made.create_time.ToSeconds() == 15 * 60
    assert await stock_of(stub, bag) == (10, 4, 6) and await stock_of(stub, map_) == (3, 2, 1)

    done = (await stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=checkout))).reservation
    assert done.status == COMMITTED
    assert await stock_of(stub, bag) == (6, 0, 6) and await stock_of(stub, map_) == (1, 0, 1)
    again = (await stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=checkout))).reservation
    assert again == done
    # a release after the commit changes nothing and says so
    after = (await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=checkout))).reservation
    assert after.status == COMMITTED and await stock_of(stub, bag) == (6, 0, 6)

    other = str(uuid.uuid4())
    await stub.ReserveInventory(reserve(other, (bag, 6)))
    released = (await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=other))).reservation
    assert released.status == RELEASED and await stock_of(stub, bag) == (6, 0, 6)
    failure = await fails(stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=other)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESERVATION_RELEASED")


async def test_the_typed_client(inventory):
    client = InventoryClient(inventory.address, timeout_s=5)
    try:
        sku = new_sku()
        assert (await client.set_stock_level(sku, 2, name="Head torch")).available == 2
        checkout = str(uuid.uuid4())
        with pytest.raises(FailedPrecondition) as refused:
            await client.reserve(checkout, [(sku, 3)])
        assert (refused.value.reason, refused.value.metadata) == ("OUT_OF_STOCK", {"sku": sku, "available": "2"})
        assert (await client.reserve(checkout, [(sku, 2)], hold_seconds=60)).status == RESERVED
        assert (await client.commit(checkout)).status == COMMITTED
        assert (await client.release(checkout)).status == COMMITTED and await client.release(str(uuid.uuid4())) is None
        assert (await client.stock(sku)).on_hand == 0
    finally:
        await client.close()


async def test_release_of_an_unknown_checkout_answers_no_reservation(stub):
    answer = await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=str(uuid.uuid4())))
    assert not answer.HasField("reservation")
    failure = await fails(stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=str(uuid.uuid4()))))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "STOCK_RESERVATION_NOT_FOUND")


async def test_a_reservation_arriving_after_its_release_takes_nothing(stub):
    """A saga's ReserveInventory overtaken by its compensation's ReleaseInventory: the release left a
    tombstone, so the late reservation is refused and holds nothing until expiry."""
    sku, checkout = await stocked(stub, 5), str(uuid.uuid4())
    for _ in range(2):  # the compensation may be retried: the same answer
        answer = await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=checkout))
        assert not answer.HasField("reservation")
    for _ in range(2):
        failure = await fails(stub.ReserveInventory(reserve(checkout, (sku, 2))))
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESERVATION_RELEASED")
    assert await stock_of(stub, sku) == (5, 0, 5)
    failure = await fails(stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=checkout)))
    assert failure.reason == "RESERVATION_RELEASED"


async def test_a_release_racing_its_reservation_leaves_nothing_held(stub):
    sku = await stocked(stub, 1000)
    checkouts = [str(uuid.uuid4()) for _ in range(30)]

    async def reserve_and_release(checkout: str) -> None:
        reserving = stub.ReserveInventory(reserve(checkout, (sku, 1)))
        await asyncio.gather(reserving, stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=checkout)))

    outcomes = await asyncio.gather(*(reserve_and_release(c) for c in checkouts), return_exceptions=True)
    assert all(o is None or isinstance(o, grpc.aio.AioRpcError) for o in outcomes)
    assert await stock_of(stub, sku) == (1000, 0, 1000)


async def test_out_of_stock_or_unknown_sku_reserves_nothing(stub, db):
    plenty, scarce = await stocked(stub, 50), await stocked(stub, 2)
    checkout = str(uuid.uuid4())
    failure = await fails(stub.ReserveInventory(reserve(checkout, (plenty, 5), (scarce, 3))))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "OUT_OF_STOCK")
    assert failure.metadata == {"sku": scarce, "available": "2"}
    unknown = new_sku("GONE")
    failure = await fails(stub.ReserveInventory(reserve(checkout, (plenty, 5), (unknown, 1))))
    assert (failure.reason, failure.metadata) == ("SKU_NOT_FOUND", {"sku": unknown})
    assert await stock_of(stub, plenty) == (50, 0, 50) and await stock_of(stub, scarce) == (2, 0, 2)
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT count(*) FROM inventory.stock_reservations WHERE checkout_id = :c"), {"c": checkout}
        )
        assert rows.scalar() == 0
    # the checkout id was not spent: the same checkout reserves once the stock is there
    await stub.SetStockLevel(pb.SetStockLevelRequest(sku=scarce, on_hand=3))
    made = (await stub.ReserveInventory(reserve(checkout, (plenty, 5), (scarce, 3)))).reservation
    assert made.status == RESERVED and await stock_of(stub, scarce) == (3, 3, 0)


async def test_a_repeated_reservation_answers_the_first(stub):
    sku = await stocked(stub, 5)
    checkout = str(uuid.uuid4())
    first = (await stub.ReserveInventory(reserve(checkout, (sku, 5)))).reservation
    # the stock is all reserved now, yet the repeat answers what it made instead of OUT_OF_STOCK
    again = (await stub.ReserveInventory(reserve(checkout, (sku, 5)))).reservation
    assert again == first and await stock_of(stub, sku) == (5, 5, 0)
    failure = await fails(stub.ReserveInventory(reserve(checkout, (sku, 4))))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")


async def test_concurrent_twins_reserve_once(stub):
    sku = await stocked(stub, 100)
    checkout = str(uuid.uuid4())
    answers = await asyncio.gather(*(stub.ReserveInventory(reserve(checkout, (sku, 3))) for _ in range(10)))
    assert len({a.reservation.SerializeToString() for a in answers}) == 1
    assert await stock_of(stub, sku) == (100, 3, 97)


async def test_200_concurrent_single_units_reserve_exactly_the_stock(stub, db):
    sku, other = await stocked(stub, 25), await stocked(stub, 1000)

    async def one() -> str:
        try:
            # a second SKU in every request, in either order: all-or-none and no deadlock
            lines = [(sku, 1), (other, 1)] if uuid.uuid4().int % 2 else [(other, 1), (sku, 1)]
            await stub.ReserveInventory(reserve(str(uuid.uuid4()), *lines), timeout=60)
            return "reserved"
        except grpc.aio.AioRpcError as err:
            return err.code().name

    outcomes = await asyncio.gather(*(one() for _ in range(200)))
    assert outcomes.count("reserved") == 25 and outcomes.count("FAILED_PRECONDITION") == 175
    assert await stock_of(stub, sku) == (25, 25, 0) and await stock_of(stub, other) == (1000, 25, 975)
    async with db.connect() as conn:
        query = sa.text(
            "SELECT count(*), sum(l.quantity) FROM inventory.stock_reservation_lines l"
            " JOIN inventory.stock_reservations r USING (checkout_id) WHERE l.sku = :s AND r.status = 'reserved'"
        )
        assert tuple((await conn.execute(query, {"s": sku})).one()) == (25, 25)


async def test_an_expired_reservation_frees_its_stock(stub):
    sku = await stocked(stub, 4)
    checkout = str(uuid.uuid4())
    await stub.ReserveInventory(reserve(checkout, (sku, 4), hold_seconds=1))
    assert await stock_of(stub, sku) == (4, 4, 0)
    await eventually(lambda: _available(stub, sku, 4))
    failure = await fails(stub.CommitInventory(pb.CommitInventoryRequest(checkout_id=checkout)))
    assert failure.reason == "RESERVATION_RELEASED"
    answer = (await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=checkout))).reservation
    assert answer.status == RELEASED and await stock_of(stub, sku) == (4, 0, 4)


async def _available(stub, sku: str, expected: int) -> bool:
    return (await stock_of(stub, sku))[2] == expected


async def test_set_stock_level_keeps_what_is_reserved(stub):
    sku = await stocked(stub, 10)
    await stub.ReserveInventory(reserve(str(uuid.uuid4()), (sku, 7)))
    failure = await fails(stub.SetStockLevel(pb.SetStockLevelRequest(sku=sku, on_hand=6)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "STOCK_BELOW_RESERVED")
    assert failure.metadata == {"sku": sku, "reserved": "7"}
    s = (await stub.SetStockLevel(pb.SetStockLevelRequest(sku=sku, on_hand=7))).stock
    assert (s.name, s.on_hand, s.reserved, s.available) == ("Dry bag 20 L", 7, 7, 0)
    failure = await fails(stub.SetStockLevel(pb.SetStockLevelRequest(sku=new_sku(), on_hand=1)))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "name" in failure.violations
    failure = await fails(stub.GetStock(pb.GetStockRequest(sku=new_sku())))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "SKU_NOT_FOUND")


async def test_bad_requests_name_every_field(stub):
    lines = [
        pb.StockLine(sku="lower-case", quantity=0),
        pb.StockLine(sku="A", quantity=1001),
        pb.StockLine(sku="A", quantity=1),
    ]
    request = pb.ReserveInventoryRequest(checkout_id="nope", lines=lines, hold_seconds=24 * 3600 + 1)
    failure = await fails(stub.ReserveInventory(request))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {
        "checkout_id",
        "lines[0].sku",
        "lines[0].quantity",
        "lines[1].quantity",
        "lines[2].sku",
        "hold_seconds",
    }
    many = [pb.StockLine(sku=f"S{i}", quantity=1) for i in range(51)]
    failure = await fails(stub.ReserveInventory(pb.ReserveInventoryRequest(checkout_id=str(uuid.uuid4()), lines=many)))
    assert set(failure.violations) == {"lines"}
    failure = await fails(stub.SetStockLevel(pb.SetStockLevelRequest(sku="x" * 65, name="a\nb", on_hand=-1)))
    assert set(failure.violations) == {"sku", "name", "on_hand"}


async def _publish(nats_url: str, event, event_id: str, msg_id: str) -> None:
    subject = {
        "OrderCreated": "novatrek.ordering.order.created",
        "OrderCompleted": "novatrek.ordering.order.completed",
        "OrderCancelled": "novatrek.ordering.order.cancelled",
    }
    nc = await nats.connect(nats_url)
    try:
        headers = {"ce-id": event_id, "ce-type": event.DESCRIPTOR.full_name, "Nats-Msg-Id": msg_id}
        await nc.jetstream().publish(
            subject[type(event).__name__], event.SerializeToString(), headers=headers, timeout=5
        )
    finally:
        await nc.close()


@pytest.fixture(scope="module")
async def streams(nats_url):
    broker = Broker(nats_url, "inventory-test")
    await broker.connect()
    await broker.ensure_streams()
    yield broker
    await broker.close()


async def _settled(broker: Broker, durable: str, subject: str) -> bool:
    info = await broker.nc.jetstream().consumer_info(broker.stream_of(subject), durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _handled(db, event_id: str) -> int:
    async with db.connect() as conn:
        query = sa.text("SELECT count(*) FROM inventory.inbox WHERE event_id = :e")
        return (await conn.execute(query, {"e": event_id})).scalar_one()


@pytest.mark.parametrize("kind", ["completed", "cancelled"])
async def test_order_events_settle_the_stock_once_even_delivered_twice(inventory, stub, db, streams, nats_url, kind):
    sku = await stocked(stub, 10)
    checkout = str(uuid.uuid4())
    await stub.ReserveInventory(reserve(checkout, (sku, 3)))
    ids = {"order_id": str(uuid.uuid4()), "checkout_id": checkout, "occur_time": Timestamp(seconds=1)}
    event = order_events.OrderCompleted(**ids) if kind == "completed" else order_events.OrderCancelled(**ids)
    expected = (7, 0, 7) if kind == "completed" else (10, 0, 10)
    event_id = str(uuid.uuid4())
    await _publish(nats_url, event, event_id, msg_id=event_id)
    await eventually(lambda: _is(stub, sku, expected))
    await _publish(nats_url, event, event_id, msg_id=f"{event_id}-again")  # stored again: delivered twice
    durable = f"{inventory.runtime.settings.consumer_durable_prefix}inventory-order-{kind}"
    await eventually(lambda: _settled(streams, durable, f"novatrek.ordering.order.{kind}"))
    assert await stock_of(stub, sku) == expected and await _handled(db, event_id) == 1
    status = (await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=checkout))).reservation.status
    assert status == (COMMITTED if kind == "completed" else RELEASED)


async def _is(stub, sku: str, expected: tuple[int, int, int]) -> bool:
    return await stock_of(stub, sku) == expected


async def test_an_order_holds_its_stock_past_the_expiry_until_it_completes(inventory, stub, db, nats_url):
    sku = await stocked(stub, 10)
    held, unheld = str(uuid.uuid4()), str(uuid.uuid4())
    await stub.ReserveInventory(reserve(held, (sku, 3), hold_seconds=2))
    ids = {"checkout_id": held, "order_id": str(uuid.uuid4()), "occur_time": Timestamp(seconds=1)}
    created = str(uuid.uuid4())
    await _publish(nats_url, order_events.OrderCreated(**ids), created, msg_id=created)
    await eventually(lambda: _handled_once(db, created))
    await stub.ReserveInventory(reserve(unheld, (sku, 2), hold_seconds=2))  # expires after `held`
    await eventually(lambda: _is(stub, sku, (10, 3, 7)))  # the sweep released `unheld`, not `held`
    completed = str(uuid.uuid4())
    await _publish(nats_url, order_events.OrderCompleted(**ids), completed, msg_id=completed)
    await eventually(lambda: _is(stub, sku, (7, 0, 7)))
    status = (await stub.ReleaseInventory(pb.ReleaseInventoryRequest(checkout_id=held))).reservation.status
    assert status == COMMITTED


async def _handled_once(db, event_id: str) -> bool:
    return await _handled(db, event_id) == 1
