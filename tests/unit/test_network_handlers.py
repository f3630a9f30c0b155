"""Partner-network use cases on in-memory fakes: networks, the invitation lifecycle (expiry, double
accept, decline), leaving with history kept, cross-business redemptions through a fake loyalty
ledger, and settlements (balanced, once per period, overlaps, members that left)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from novatrek.network.v1 import events_pb2

from services.chassis.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.network import handlers, redemptions
from services.network.commands import (
    CreateNetwork,
    InviteBusiness,
    LeaveNetwork,
    ListMembers,
    ListTransactions,
    RedeemAcrossNetwork,
    SettleRevenue,
)
from services.network.domain import InvitationStatus
from tests.helpers import FakeClock
from tests.unit.network_fakes import FakeBusinesses, FakeLoyalty, FakeNetworkUnitOfWork, Store

D = Decimal
A, B, C, USD = (uuid.uuid4() for _ in range(4))
WEEK = timedelta(days=7)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def loyalty() -> FakeLoyalty:
    return FakeLoyalty(point_values={A: (D("0.10"), "EUR"), B: (D("0.05"), "EUR"), C: (D("0.01"), "EUR")})


@pytest.fixture
def deps(store, clock, loyalty) -> handlers.Deps:
    businesses = FakeBusinesses({A: "EUR", B: "EUR", C: "EUR", USD: "USD"})
    return handlers.Deps(FakeNetworkUnitOfWork.factory(store), businesses, loyalty, clock)


def kinds(store: Store) -> list[str]:
    return [type(e).__name__ for e in store.published]


async def network_of(deps, *members: uuid.UUID):
    """A network founded by the first company, the others invited and joined."""
    founder, *others = members
    n = await handlers.create_network(CreateNetwork(uuid.uuid4(), "Coast", "EUR", founder), deps)
    for company in others:
        invitation = await handlers.invite_business(InviteBusiness(n.network_id, founder, company, WEEK), deps)
        await handlers.accept_invitation(invitation.invitation_id, deps)
    return n


async def test_the_founder_is_the_first_member_and_a_repeat_answers_the_same_network(deps, store):
    cmd = CreateNetwork(uuid.uuid4(), "Coast", "EUR", A)
    n = await handlers.create_network(cmd, deps)
    assert await handlers.create_network(cmd, deps) == n
    [m] = await handlers.list_members(ListMembers(n.network_id, False), deps)
    assert (m.company_id, m.invitation_id, m.current) == (A, None, True)
    assert kinds(store) == ["NetworkCreated"]
    with pytest.raises(InvalidArgument) as reused:
        await handlers.create_network(CreateNetwork(cmd.request_id, "Other", "EUR", A), deps)
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_the_founder_sells_in_the_networks_currency(deps, store):
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.create_network(CreateNetwork(uuid.uuid4(), "Coast", "EUR", USD), deps)
    assert refused.value.reason == "CURRENCY_MISMATCH"
    with pytest.raises(NotFound) as unknown:
        await handlers.create_network(CreateNetwork(uuid.uuid4(), "Coast", "EUR", uuid.uuid4()), deps)
    assert unknown.value.reason == "COMPANY_NOT_FOUND" and store.networks == {} and store.published == []


async def test_only_members_invite_members_are_not_invited_and_one_invitation_is_pending(deps):
    n = await network_of(deps, A)
    with pytest.raises(PermissionDenied) as outsider:
        await handlers.invite_business(InviteBusiness(n.network_id, B, C, WEEK), deps)
    assert outsider.value.reason == "NOT_A_MEMBER"
    first = await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps)
    assert await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps) == first
    await handlers.accept_invitation(first.invitation_id, deps)
    with pytest.raises(AlreadyExists) as member:
        await handlers.invite_business(InviteBusiness(n.network_id, B, A, WEEK), deps)
    assert member.value.reason == "ALREADY_MEMBER"
    with pytest.raises(FailedPrecondition) as currency:
        await handlers.invite_business(InviteBusiness(n.network_id, A, USD, WEEK), deps)
    assert currency.value.reason == "CURRENCY_MISMATCH"


async def test_accepting_twice_answers_the_same_membership_and_publishes_once(deps, store):
    n = await network_of(deps, A)
    invitation = await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps)
    first, accepted = await handlers.accept_invitation(invitation.invitation_id, deps)
    again, _ = await handlers.accept_invitation(invitation.invitation_id, deps)
    assert again == first and accepted.status is InvitationStatus.ACCEPTED
    assert kinds(store) == ["NetworkCreated", "PartnerJoined"]
    joined = store.published[1]
    assert isinstance(joined, events_pb2.PartnerJoined)
    assert (joined.company_id, joined.invitation_id) == (str(B), str(invitation.invitation_id))
    with pytest.raises(FailedPrecondition) as decline:
        await handlers.decline_invitation(invitation.invitation_id, deps)
    assert decline.value.reason == "INVITATION_ACCEPTED"


async def test_an_invitation_expires_and_a_new_one_replaces_it(deps, clock, store):
    n = await network_of(deps, A)
    old = await handlers.invite_business(InviteBusiness(n.network_id, A, B, timedelta(minutes=5)), deps)
    clock.advance(minutes=5)
    with pytest.raises(FailedPrecondition) as expired:
        await handlers.accept_invitation(old.invitation_id, deps)
    assert expired.value.reason == "INVITATION_EXPIRED"
    new = await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps)
    assert new.invitation_id != old.invitation_id
    assert store.invitations[old.invitation_id].status is InvitationStatus.EXPIRED
    membership, _ = await handlers.accept_invitation(new.invitation_id, deps)
    assert membership.invitation_id == new.invitation_id


async def test_a_declined_invitation_cannot_be_accepted(deps):
    n = await network_of(deps, A)
    invitation = await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps)
    declined = await handlers.decline_invitation(invitation.invitation_id, deps)
    assert await handlers.decline_invitation(invitation.invitation_id, deps) == declined
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.accept_invitation(invitation.invitation_id, deps)
    assert refused.value.reason == "INVITATION_DECLINED"
    with pytest.raises(NotFound):
        await handlers.accept_invitation(uuid.uuid4(), deps)


async def test_leaving_keeps_history_twice_is_one_event_and_a_business_may_come_back(deps, store, clock):
    n = await network_of(deps, A, B)
    clock.advance(hours=1)
    left = await handlers.leave_network(LeaveNetwork(n.network_id, B), deps)
    assert await handlers.leave_network(LeaveNetwork(n.network_id, B), deps) == left
    assert kinds(store).count("PartnerLeft") == 1
    assert [m.company_id for m in await handlers.list_members(ListMembers(n.network_id, False), deps)] == [A]
    everyone = await handlers.list_members(ListMembers(n.network_id, True), deps)
    assert [(m.company_id, m.current) for m in everyone] == [(A, True), (B, False)]
    with pytest.raises(NotFound) as never:
        await handlers.leave_network(LeaveNetwork(n.network_id, C), deps)
    assert never.value.reason == "MEMBER_NOT_FOUND"
    again = await handlers.invite_business(InviteBusiness(n.network_id, A, B, WEEK), deps)
    back, _ = await handlers.accept_invitation(again.invitation_id, deps)
    assert back.membership_id != left.membership_id
    assert len(await handlers.list_members(ListMembers(n.network_id, True), deps)) == 3


async def test_points_earned_at_a_are_redeemed_at_b_as_one_cross_business_transaction(deps, store, loyalty):
    n = await network_of(deps, A, B)
    guest = uuid.uuid4()
    loyalty.earn(guest, A, 300)
    loyalty.earn(guest, B, 100)
    cmd = RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, B, 350)
    done = await redemptions.redeem_across_network(cmd, deps)
    # FIFO over the lots: A's 300, then 50 of B's own (not cross-business)
    assert (done.points, done.value) == (350, D("17.50"))
    [t] = done.transactions
    assert (t.issuer_company_id, t.redeemer_company_id, t.points, t.point_value, t.value) == (
        A,
        B,
        300,
        D("0.05"),
        D("15.00"),
    )
    assert await redemptions.redeem_across_network(cmd, deps) == done  # a repeat: the stored answer
    assert loyalty.calls == ["redeemable", "redeem"] and loyalty.balance(guest) == 50
    assert kinds(store).count("CrossBusinessTransactionCompleted") == 1
    page, _ = await redemptions.list_transactions(ListTransactions(n.network_id, None, 10), deps)
    assert page == [t]
    with pytest.raises(InvalidArgument):
        await redemptions.redeem_across_network(RedeemAcrossNetwork(cmd.operation_id, n.network_id, guest, B, 1), deps)


async def test_more_than_the_network_balance_is_refused_before_loyalty_redeems(deps, loyalty, store):
    n = await network_of(deps, A, B)
    guest = uuid.uuid4()
    loyalty.earn(guest, A, 10)
    loyalty.earn(guest, C, 1000)  # C is no member: its points do not count here
    with pytest.raises(FailedPrecondition) as refused:
        await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, B, 11), deps)
    assert refused.value.reason == "INSUFFICIENT_POINTS" and refused.value.metadata["available"] == "10"
    assert loyalty.calls == ["redeemable"] and store.redemptions == {}


async def test_only_a_member_redeems_and_a_member_that_left_issues_nothing_redeemable(deps, loyalty):
    n = await network_of(deps, A, B, C)
    guest = uuid.uuid4()
    loyalty.earn(guest, C, 100)
    await handlers.leave_network(LeaveNetwork(n.network_id, C), deps)
    with pytest.raises(PermissionDenied):
        await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, C, 1), deps)
    with pytest.raises(FailedPrecondition):
        await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, A, 1), deps)


async def test_a_point_value_in_another_currency_is_given_back(deps, loyalty, store):
    n = await network_of(deps, A, B)
    guest = uuid.uuid4()
    loyalty.earn(guest, A, 100)
    loyalty.point_values[B] = (D("0.05"), "USD")
    with pytest.raises(FailedPrecondition) as refused:
        await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, B, 40), deps)
    assert refused.value.reason == "CURRENCY_MISMATCH"
    assert loyalty.balance(guest) == 100 and store.redemptions == {}


async def test_a_settlement_balances_is_made_once_per_period_and_keeps_members_that_left(deps, clock, loyalty, store):
    n = await network_of(deps, A, B, C)
    guest = uuid.uuid4()
    loyalty.earn(guest, A, 1000)
    loyalty.earn(guest, C, 500)
    day = clock().date()
    await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, B, 1200), deps)
    await handlers.leave_network(LeaveNetwork(n.network_id, C), deps)
    period = SettleRevenue(n.network_id, day, day + timedelta(days=1))
    with pytest.raises(FailedPrecondition) as early:  # tomorrow's period: not yet
        await redemptions.settle_revenue(SettleRevenue(n.network_id, day, day + timedelta(days=2)), deps)
    assert early.value.reason == "PERIOD_NOT_ENDED"
    s = await redemptions.settle_revenue(period, deps)  # today's, while it runs: it closes the period
    nets = {p.company_id: p.net for p in s.positions}
    assert nets == {A: D("-50.00"), B: D("60.00"), C: D("-10.00")} and s.transaction_count == 2
    assert [(t.from_company_id, t.to_company_id, t.amount) for t in s.transfers] == [
        (A, B, D("50.00")),
        (C, B, D("10.00")),
    ]
    assert await redemptions.settle_revenue(period, deps) == s
    assert kinds(store).count("RevenueSettlementProcessed") == 1
    with pytest.raises(FailedPrecondition) as overlap:
        await redemptions.settle_revenue(SettleRevenue(n.network_id, day - timedelta(days=3), day + WEEK // 7), deps)
    assert overlap.value.reason == "PERIOD_OVERLAPS"
    earlier = await redemptions.settle_revenue(SettleRevenue(n.network_id, date(2020, 1, 1), day), deps)
    assert earlier.transaction_count == 0 and earlier.transfers == ()
    assert await redemptions.list_settlements(n.network_id, deps) == [s, earlier]


async def test_a_transaction_after_its_days_period_was_settled_settles_in_the_next(deps, clock, loyalty, store):
    n = await network_of(deps, A, B)
    guest, day = uuid.uuid4(), clock().date()
    loyalty.earn(guest, A, 1000)
    today = SettleRevenue(n.network_id, day, day + timedelta(days=1))
    assert (await redemptions.settle_revenue(today, deps)).transaction_count == 0
    late = await redemptions.redeem_across_network(RedeemAcrossNetwork(uuid.uuid4(), n.network_id, guest, B, 200), deps)
    assert late.occurred_at.date() == day and late.transactions[0].settlement_date == day + timedelta(days=1)
    clock.advance(days=1)
    tomorrow = await redemptions.settle_revenue(
        SettleRevenue(n.network_id, day + timedelta(days=1), day + timedelta(days=2)), deps
    )
    assert tomorrow.transaction_count == 1 and {p.company_id: p.net for p in tomorrow.positions} == {
        A: D("-10.00"), B: D("10.00"),
    }  # fmt: skip
