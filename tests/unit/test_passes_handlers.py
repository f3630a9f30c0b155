"""Pass use cases through their handlers, on an in-memory unit of work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from services.passes import handlers
from services.passes.commands import (
    ConsumeEntitlement,
    CreatePassProduct,
    IssueEntitlement,
    ListEntitlements,
    RestoreEntitlement,
)
from services.passes.domain import UsageStatus
from tests.helpers import FakeClock
from tests.unit.passes_fakes import FakePassUow, Store

YOGA, CLIMBING = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(store, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakePassUow.factory(store), clock=clock)


def create(sessions: int = 3, activities=(), company=None, request_id=None) -> CreatePassProduct:
    return CreatePassProduct(
        request_id or uuid.uuid4(),
        company or uuid.uuid4(),
        "Pass",
        sessions,
        30,
        tuple(activities),
        Decimal("99.50"),
        "EUR",
    )


async def issued(deps, sessions: int = 3, activities=(), customer=None):
    product = await handlers.create_pass_product(create(sessions, activities), deps)
    cmd = IssueEntitlement(uuid.uuid4(), product.product_id, customer or uuid.uuid4())
    return await handlers.issue_entitlement(cmd, deps)


def use(e, booking=None, activity=YOGA, start=None, customer=None) -> ConsumeEntitlement:
    start = start or e.valid_from + timedelta(days=1)
    return ConsumeEntitlement(e.entitlement_id, booking or uuid.uuid4(), customer or e.customer_id, activity, start)


async def test_products_are_created_once_per_request(deps, store):
    cmd = create()
    first = await handlers.create_pass_product(cmd, deps)
    assert await handlers.create_pass_product(cmd, deps) == first and len(store.products) == 1
    with pytest.raises(InvalidArgument) as reused:
        await handlers.create_pass_product(create(sessions=4, company=cmd.company_id, request_id=cmd.request_id), deps)
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert await handlers.get_pass_product(first.product_id, deps) == first
    with pytest.raises(NotFound, match="pass product"):
        await handlers.get_pass_product(uuid.uuid4(), deps)


async def test_an_entitlement_is_issued_once_per_request_with_the_products_sessions(deps, clock):
    product = await handlers.create_pass_product(create(5, (YOGA,)), deps)
    cmd = IssueEntitlement(uuid.uuid4(), product.product_id, uuid.uuid4())
    e = await handlers.issue_entitlement(cmd, deps)
    assert (e.sessions_total, e.sessions_remaining, e.activity_ids) == (5, 5, (YOGA,))
    assert e.expire_time == clock.now + timedelta(days=30) and e.company_id == product.company_id
    assert await handlers.issue_entitlement(cmd, deps) == e
    with pytest.raises(InvalidArgument, match="request_id"):
        await handlers.issue_entitlement(IssueEntitlement(cmd.request_id, product.product_id, uuid.uuid4()), deps)
    with pytest.raises(NotFound) as missing:
        await handlers.issue_entitlement(IssueEntitlement(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()), deps)
    assert missing.value.reason == "PASS_PRODUCT_NOT_FOUND"


async def test_consume_takes_one_session_per_booking_and_replays(deps):
    e = await issued(deps)
    cmd = use(e)
    done = await handlers.consume_entitlement(cmd, deps)
    assert done.entitlement.sessions_remaining == 2 and done.usage.status is UsageStatus.CONSUMED
    again = await handlers.consume_entitlement(cmd, deps)
    assert again.usage == done.usage and again.entitlement.sessions_remaining == 2
    with pytest.raises(InvalidArgument) as reused:
        await handlers.consume_entitlement(use(e, booking=cmd.booking_id, activity=CLIMBING), deps)
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    with pytest.raises(NotFound):  # the replay of another customer is not theirs either
        await handlers.consume_entitlement(use(e, booking=cmd.booking_id, customer=uuid.uuid4()), deps)


async def test_a_twin_that_wrote_first_is_answered(deps, store):
    e = await issued(deps)
    store.twin_first = True
    done = await handlers.consume_entitlement(use(e), deps)
    assert done.entitlement.sessions_remaining == 2 and len(store.usages) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"customer": uuid.UUID(int=9)}, "ENTITLEMENT_NOT_FOUND"),
        ({"activity": CLIMBING}, "ENTITLEMENT_NOT_APPLICABLE"),
        ({"days": 30}, "ENTITLEMENT_EXPIRED"),
    ],
)
async def test_refusals_take_nothing(deps, store, change, reason):
    e = await issued(deps, activities=(YOGA,))
    start = e.valid_from + timedelta(days=change.pop("days", 1))
    with pytest.raises((NotFound, FailedPrecondition)) as refused:
        await handlers.consume_entitlement(use(e, start=start, **change), deps)
    assert refused.value.reason == reason and not store.usages
    assert store.entitlements[e.entitlement_id].sessions_remaining == 3


async def test_exhausted_and_expired(deps, clock):
    e = await issued(deps, sessions=1)
    await handlers.consume_entitlement(use(e), deps)
    with pytest.raises(FailedPrecondition, match="no session left") as refused:
        await handlers.consume_entitlement(use(e), deps)
    assert refused.value.reason == "ENTITLEMENT_EXHAUSTED"
    clock.advance(days=31)
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.consume_entitlement(use(e, start=clock.now - timedelta(days=2)), deps)
    assert refused.value.reason == "ENTITLEMENT_EXPIRED"


async def test_restore_gives_the_session_back_once(deps):
    e = await issued(deps)
    cmd = use(e)
    await handlers.consume_entitlement(cmd, deps)
    back = await handlers.restore_entitlement(RestoreEntitlement(e.entitlement_id, cmd.booking_id), deps)
    assert back.restored and back.entitlement.sessions_remaining == 3 and back.usage.status is UsageStatus.RESTORED
    again = await handlers.restore_entitlement(RestoreEntitlement(e.entitlement_id, cmd.booking_id), deps)
    assert again.restored and again.entitlement.sessions_remaining == 3
    with pytest.raises(FailedPrecondition) as late:
        await handlers.consume_entitlement(cmd, deps)
    assert late.value.reason == "USAGE_RESTORED"
    with pytest.raises(InvalidArgument, match="booking_id"):  # that booking used another entitlement
        await handlers.restore_entitlement(
            RestoreEntitlement((await issued(deps)).entitlement_id, cmd.booking_id), deps
        )


async def test_a_restore_first_leaves_a_tombstone(deps, store):
    e = await issued(deps)
    booking = uuid.uuid4()
    answer = await handlers.restore_entitlement(RestoreEntitlement(e.entitlement_id, booking), deps)
    assert not answer.restored and answer.usage.status is UsageStatus.TOMBSTONE
    with pytest.raises(FailedPrecondition) as late:
        await handlers.consume_entitlement(use(e, booking=booking), deps)
    assert late.value.reason == "USAGE_RESTORED" and store.entitlements[e.entitlement_id].sessions_remaining == 3
    nothing = await handlers.restore_entitlement(RestoreEntitlement(uuid.uuid4(), uuid.uuid4()), deps)
    assert (nothing.restored, nothing.entitlement, nothing.usage) == (False, None, None)


async def test_a_consume_landing_before_the_tombstone_is_restored(deps, store):
    e = await issued(deps)
    store.consume_first = True
    answer = await handlers.restore_entitlement(RestoreEntitlement(e.entitlement_id, uuid.uuid4()), deps)
    assert answer.restored and answer.entitlement.sessions_remaining == 3


async def test_past_expiry_nothing_is_restored(deps, clock):
    e = await issued(deps)
    cmd = use(e)
    await handlers.consume_entitlement(cmd, deps)
    clock.advance(days=30)
    answer = await handlers.restore_entitlement(RestoreEntitlement(e.entitlement_id, cmd.booking_id), deps)
    assert not answer.restored and answer.usage.status is UsageStatus.FORFEITED
    assert answer.entitlement.sessions_remaining == 2


async def test_a_consume_that_keeps_losing_races_is_aborted(deps, store, monkeypatch):
    e = await issued(deps)

    async def took_nothing(use, now):
        return None

    monkeypatch.setattr("tests.unit.passes_fakes.FakeUsages.consume", lambda self, u, now: took_nothing(u, now))
    with pytest.raises(Aborted):
        await handlers.consume_entitlement(use(e), deps)


async def test_list_pages_newest_first(deps, clock):
    customer = uuid.uuid4()
    made = []
    for _ in range(3):
        made.append(await issued(deps, customer=customer))
        clock.advance(seconds=1)
    page, after = await handlers.list_entitlements(ListEntitlements(customer, None, None, 2), deps)
    assert [e.entitlement_id for e in page] == [made[2].entitlement_id, made[1].entitlement_id]
    rest, end = await handlers.list_entitlements(ListEntitlements(customer, None, after, 2), deps)
    assert [e.entitlement_id for e in rest] == [made[0].entitlement_id] and end is None
    only, _ = await handlers.list_entitlements(ListEntitlements(customer, made[0].company_id, None, 5), deps)
    assert only == [made[0]]
