"""Loyalty use cases against an in-memory unit of work: rules and their exclusive sources, earnings by
rule and explicit with their event, FIFO redemptions across issuers, refusals that write nothing,
repeats and reused keys, reversals with tombstones, the event earnings, expiry and pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.loyalty import handlers
from services.loyalty.commands import (
    Earn,
    EventEarning,
    GetAccount,
    ListTransactions,
    Redeem,
    Reverse,
    SetEarnRule,
    SetRedeemRule,
)
from services.loyalty.domain import Kind, Source
from tests.helpers import FakeClock
from tests.unit.loyalty_fakes import FakeLoyaltyUnitOfWork, Store

D = Decimal
MEMBER, A, B, SHOP = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(store, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakeLoyaltyUnitOfWork.factory(store), clock=clock)


def explicit(points: int, company: uuid.UUID = A, op: uuid.UUID | None = None, source: Source | None = None) -> Earn:
    return Earn(op or uuid.uuid4(), MEMBER, company, points, None, "", source, "")


def spend(points: int, issuers=(), op: uuid.UUID | None = None) -> Redeem:
    return Redeem(op or uuid.uuid4(), MEMBER, SHOP, points, frozenset(issuers))


async def balance(deps, *companies) -> tuple[int, dict]:
    account = await handlers.get_account(GetAccount(MEMBER, frozenset(companies)), deps)
    return account.balance, dict(account.by_issuer)


async def test_exclusive_sources_have_one_company_and_rules_are_upserts(deps):
    await handlers.set_earn_rule(SetEarnRule(A, Source.TRIP, "", D("1"), 0), deps)
    await handlers.set_earn_rule(SetEarnRule(A, Source.TRIP, "", D("2"), 10), deps)
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.set_earn_rule(SetEarnRule(B, Source.TRIP, "", D("1"), 0), deps)
    assert (refused.value.reason, refused.value.metadata["company_id"]) == ("EARN_SOURCE_HELD", str(A))
    await handlers.set_earn_rule(SetEarnRule(B, Source.SESSION, "", D("1"), 0), deps)
    await handlers.set_redeem_rule(SetRedeemRule(A, "EUR", D("0.01")), deps)
    earn_rules, redeem_rule = await handlers.list_rules(A, deps)
    assert [(r.source, r.points_per_unit, r.expiry_days) for r in earn_rules] == [(Source.TRIP, D("2"), 10)]
    assert redeem_rule is not None and redeem_rule.point_value == D("0.01")


async def test_earnings_by_rule_round_down_expire_by_it_and_publish_once(deps, store, clock):
    await handlers.set_earn_rule(SetEarnRule(A, Source.SESSION, "", D("1.5"), 30), deps)
    cmd = Earn(uuid.uuid4(), MEMBER, A, None, D("10.99"), "EUR", Source.SESSION, "any")
    earned = await handlers.earn(cmd, deps)
    assert (earned.points, earned.expire_time) == (16, clock() + timedelta(days=30))
    assert await handlers.earn(cmd, deps) == earned
    assert len(store.published) == 1
    none = await handlers.earn(Earn(uuid.uuid4(), MEMBER, B, None, D("50"), "EUR", Source.SESSION, ""), deps)
    assert (none.points, none.by_issuer) == (0, ())
    assert await balance(deps) == (16, {A: 16})


async def test_redemptions_take_soonest_expiry_first_and_refusals_write_nothing(deps, store, clock):
    await handlers.set_earn_rule(SetEarnRule(A, Source.SESSION, "", D("1"), 10), deps)
    await handlers.set_earn_rule(SetEarnRule(B, Source.SESSION, "", D("1"), 5), deps)
    await handlers.earn(explicit(50, A, source=Source.SESSION), deps)
    await handlers.earn(explicit(30, B, source=Source.SESSION), deps)
    with pytest.raises(FailedPrecondition, match="no redeem rule"):
        await handlers.redeem(spend(10), deps)
    await handlers.set_redeem_rule(SetRedeemRule(SHOP, "EUR", D("0.015")), deps)
    before = (dict(store.lots), dict(store.transactions))
    with pytest.raises(FailedPrecondition) as short:
        await handlers.redeem(spend(81), deps)
    assert short.value.metadata == {"available": "80", "requested": "81"}
    assert (store.lots, store.transactions) == before
    taken = await handlers.redeem(spend(45), deps)
    assert (taken.points, dict(taken.by_issuer), taken.value) == (-45, {A: -15, B: -30}, D("0.68"))
    restricted = await handlers.redeem(spend(5, issuers=[A]), deps)
    assert dict(restricted.by_issuer) == {A: -5}
    assert await balance(deps) == (30, {A: 30})


async def test_repeats_answer_and_reused_keys_are_refused(deps):
    await handlers.set_redeem_rule(SetRedeemRule(SHOP, "EUR", D("0.01")), deps)
    first = explicit(40)
    await handlers.earn(first, deps)
    redemption = spend(10)
    answer = await handlers.redeem(redemption, deps)
    assert await handlers.redeem(redemption, deps) == answer
    for reused in (
        handlers.earn(explicit(41, op=first.operation_id), deps),
        handlers.redeem(spend(10, op=first.operation_id), deps),
        handlers.redeem(spend(11, op=redemption.operation_id), deps),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await reused
        assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert await balance(deps) == (30, {A: 30})


async def test_reversals_once_per_transaction_with_shortfalls_and_tombstones(deps, store):
    await handlers.set_redeem_rule(SetRedeemRule(SHOP, "EUR", D("0.01")), deps)
    earning = explicit(100)
    await handlers.earn(earning, deps)
    spent = await handlers.redeem(spend(30), deps)
    taken = await handlers.reverse(Reverse(uuid.uuid4(), earning.operation_id), deps)
    assert (taken.kind, taken.points, taken.shortfall) == (Kind.REVERSAL, -70, 30)
    again = await handlers.reverse(Reverse(uuid.uuid4(), earning.operation_id), deps)
    assert again == taken
    late = await handlers.reverse(Reverse(uuid.uuid4(), spent.operation_id), deps)
    assert (late.points, late.shortfall) == (0, 30)
    with pytest.raises(InvalidArgument):
        await handlers.reverse(Reverse(uuid.uuid4(), taken.operation_id), deps)
    unknown = uuid.uuid4()
    nothing = await handlers.reverse(Reverse(uuid.uuid4(), unknown), deps)
    assert (nothing.member_id, nothing.points) == (None, 0)
    with pytest.raises(FailedPrecondition) as reversed_first:
        await handlers.earn(explicit(5, op=unknown), deps)
    assert reversed_first.value.reason == "TRANSACTION_REVERSED"
    assert await balance(deps) == (0, {})


async def test_event_earnings_go_to_the_source_holder_or_nowhere(deps, store):
    trip = EventEarning(uuid.uuid4(), MEMBER, None, Source.TRIP, D("100"), "EUR")
    async with deps.uow() as uow:
        assert await handlers.earn_for_event(uow, trip, deps.clock()) is None
    await handlers.set_earn_rule(SetEarnRule(B, Source.TRIP, "", D("2"), 0), deps)
    async with deps.uow() as uow:
        earned = await handlers.earn_for_event(uow, trip, deps.clock())
        assert await handlers.earn_for_event(uow, trip, deps.clock()) == earned
    assert earned is not None and (earned.company_id, earned.points) == (B, 200)
    assert await balance(deps) == (200, {B: 200})


async def test_expired_lots_stop_counting_and_are_written_off_once(deps, store, clock):
    await handlers.set_earn_rule(SetEarnRule(A, Source.SESSION, "", D("1"), 1), deps)
    await handlers.earn(explicit(20, source=Source.SESSION), deps)
    await handlers.earn(explicit(7, B), deps)
    clock.advance(days=2)
    assert await balance(deps) == (7, {B: 7})
    assert await handlers.expire_points(deps, 10) == 1
    assert await handlers.expire_points(deps, 10) == 0
    page, _ = await handlers.list_transactions(ListTransactions(MEMBER, None, 10), deps)
    assert (page[0].kind, page[0].points) == (Kind.EXPIRY, -20)
    assert sum(m.delta for _, m in store.entries) == sum(lot.remaining for lot in store.lots.values()) == 7


async def test_pages_newest_first(deps, clock):
    ops = []
    for n in range(5):
        ops.append((await handlers.earn(explicit(n + 1), deps)).operation_id)
        clock.advance(seconds=1)
    first, after = await handlers.list_transactions(ListTransactions(MEMBER, None, 3), deps)
    rest, end = await handlers.list_transactions(ListTransactions(MEMBER, after, 3), deps)
    assert [t.operation_id for t in first + rest] == ops[::-1] and end is None
