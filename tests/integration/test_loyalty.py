"""loyalty through gRPC on real PostgreSQL: rules, earnings by rule and explicit, redemptions FIFO by
expiry across issuers that never overdraw (a storm on one balance), refusals that write nothing,
idempotency per operation_id, reversals (with their tombstones), expiry and pages."""

from __future__ import annotations

import asyncio

import grpc
import sqlalchemy as sa
from novatrek.loyalty.v1 import loyalty_pb2 as pb

from tests.helpers import eventually, fails
from tests.integration.loyalty_fixtures import (
    SESSION,
    TRIP,
    balance,
    earn,
    execute,
    holder,
    ledger,
    loyalty_db,  # noqa: F401 (fixture)
    money,
    new_id,
    redeem,
    redeemer,
    reverse,
)

EARN, REDEEM, REVERSAL, EXPIRY = (
    pb.POINT_TRANSACTION_KIND_EARN,
    pb.POINT_TRANSACTION_KIND_REDEEM,
    pb.POINT_TRANSACTION_KIND_REVERSAL,
    pb.POINT_TRANSACTION_KIND_EXPIRY,
)


async def test_rules_are_upserts_listed_per_company_and_a_trip_source_has_one_company(loyalty_stub):
    company = new_id()
    rule = pb.SetEarnRuleRequest(company_id=company, source=SESSION, points_per_unit="1.5", expiry_days=30)
    await loyalty_stub.SetEarnRule(rule)
    rule.points_per_unit, rule.expiry_days = "2", 0
    saved = (await loyalty_stub.SetEarnRule(rule)).rule
    assert (saved.points_per_unit, saved.expiry_days) == ("2", 0)
    kayak = pb.SetEarnRuleRequest(company_id=company, source=SESSION, category="kayak", points_per_unit="0.25")
    await loyalty_stub.SetEarnRule(kayak)
    await loyalty_stub.SetRedeemRule(pb.SetRedeemRuleRequest(company_id=company, point_value=money(0, 5_000_000)))
    listed = await loyalty_stub.ListRules(pb.ListRulesRequest(company_id=company))
    assert [(r.category, r.points_per_unit) for r in listed.earn_rules] == [("", "2"), ("kayak", "0.25")]
    assert listed.redeem_rule.point_value == money(0, 5_000_000)
    assert not (await loyalty_stub.ListRules(pb.ListRulesRequest(company_id=new_id()))).HasField("redeem_rule")

    trips = await holder(loyalty_stub, TRIP, "1")
    other = pb.SetEarnRuleRequest(company_id=new_id(), source=TRIP, points_per_unit="1")
    failed = await fails(loyalty_stub.SetEarnRule(other))
    assert (failed.code, failed.reason, failed.metadata["company_id"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "EARN_SOURCE_HELD",
        trips,
    )


async def test_earn_by_rule_by_category_explicit_and_without_a_rule(loyalty_stub):
    company, member = new_id(), new_id()
    for category, rate in (("", "1.5"), ("kayak", "3")):
        rule = pb.SetEarnRuleRequest(company_id=company, source=SESSION, category=category, points_per_unit=rate)
        await loyalty_stub.SetEarnRule(rule)
    spent = money(10, 990_000_000)
    by_rule = (await loyalty_stub.EarnPoints(earn(member, company, amount=spent, source=SESSION))).transaction
    assert (by_rule.kind, by_rule.points, by_rule.amount, by_rule.source) == (EARN, 16, spent, SESSION)  # 16.485
    kayak = await loyalty_stub.EarnPoints(earn(member, company, amount=spent, source=SESSION, category="kayak"))
    other = await loyalty_stub.EarnPoints(earn(member, company, amount=spent, source=SESSION, category="bike"))
    assert (kayak.transaction.points, other.transaction.points) == (32, 16)
    explicit = (await loyalty_stub.EarnPoints(earn(member, company, 100))).transaction
    assert [(b.issuer_company_id, b.points) for b in explicit.by_issuer] == [(company, 100)]
    nothing = (await loyalty_stub.EarnPoints(earn(member, new_id(), amount=spent, source=SESSION))).transaction
    assert (nothing.points, list(nothing.by_issuer)) == (0, [])
    assert await balance(loyalty_stub, member) == (164, {company: 164})


async def test_redeem_takes_the_soonest_expiring_lots_first_across_issuers(loyalty_stub, loyalty_db):
    member, a, b, c = new_id(), new_id(), new_id(), new_id()
    for company, days in ((a, 10), (b, 5)):
        rule = pb.SetEarnRuleRequest(company_id=company, source=SESSION, points_per_unit="1", expiry_days=days)
        await loyalty_stub.SetEarnRule(rule)
    for company, points in ((c, 40), (a, 50), (b, 30)):
        await loyalty_stub.EarnPoints(earn(member, company, points, source=SESSION))
    shop = await redeemer(loyalty_stub, cents=1)

    answer = await loyalty_stub.RedeemPoints(redeem(member, shop, 60))
    assert [(x.issuer_company_id, x.points) for x in answer.consumed] == sorted([(a, 30), (b, 30)])
    assert (answer.value, answer.point_value, answer.transaction.points) == (
        money(0, 600_000_000),
        money(0, 10_000_000),
        -60,
    )
    assert await balance(loyalty_stub, member) == (60, {a: 20, c: 40})
    assert await balance(loyalty_stub, member, a, b) == (20, {a: 20})

    short = await fails(loyalty_stub.RedeemPoints(redeem(member, shop, 50, issuers=[c])))
    assert (short.code, short.reason, short.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INSUFFICIENT_POINTS",
        {"available": "40", "requested": "50"},
    )
    restricted = await loyalty_stub.RedeemPoints(redeem(member, shop, 50, issuers=[a, c]))
    assert {x.issuer_company_id: x.points for x in restricted.consumed} == {a: 20, c: 30}
    assert await ledger(loyalty_db, member) == (10, 10, 5)


async def test_refusals_write_nothing(loyalty_stub, loyalty_db):
    member, company = new_id(), new_id()
    await loyalty_stub.EarnPoints(earn(member, company, 10))
    before = await ledger(loyalty_db, member)
    no_rule = await fails(loyalty_stub.RedeemPoints(redeem(member, new_id(), 5)))
    assert (no_rule.code, no_rule.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NO_REDEEM_RULE")
    short = await fails(loyalty_stub.RedeemPoints(redeem(member, await redeemer(loyalty_stub), 11)))
    assert short.reason == "INSUFFICIENT_POINTS"
    nobody = new_id()
    stranger = await fails(loyalty_stub.RedeemPoints(redeem(nobody, await redeemer(loyalty_stub), 1)))
    assert stranger.metadata == {"available": "0", "requested": "1"}
    async with loyalty_db.connect() as conn:  # the lock's upsert of its account rolled back too
        query = sa.text("SELECT count(*) FROM loyalty.accounts WHERE member_id = :m")
        assert (await conn.execute(query, {"m": nobody})).scalar_one() == 0
    assert await ledger(loyalty_db, member) == before == (10, 10, 1)


async def test_a_storm_of_redemptions_never_overdraws_one_balance(loyalty_stub, loyalty_db):
    member, company, shop = new_id(), new_id(), await redeemer(loyalty_stub)
    await loyalty_stub.EarnPoints(earn(member, company, 60))
    await loyalty_stub.EarnPoints(earn(member, new_id(), 40))

    async def attempt():
        try:
            return (await loyalty_stub.RedeemPoints(redeem(member, shop, 10))).transaction
        except grpc.aio.AioRpcError as err:
            return err.code()

    results = await asyncio.gather(*(attempt() for _ in range(30)))
    done = [r for r in results if isinstance(r, pb.PointTransaction)]
    assert len(done) == 10
    assert [r for r in results if not isinstance(r, pb.PointTransaction)] == [grpc.StatusCode.FAILED_PRECONDITION] * 20
    assert await balance(loyalty_stub, member) == (0, {})
    assert await ledger(loyalty_db, member) == (0, 0, 12)


async def test_repeats_answer_the_same_and_a_reused_key_is_refused(loyalty_stub, loyalty_db):
    member, company, shop = new_id(), new_id(), await redeemer(loyalty_stub)
    earning = earn(member, company, 50)
    first = await loyalty_stub.EarnPoints(earning)
    assert await loyalty_stub.EarnPoints(earning) == first
    spend = redeem(member, shop, 20)
    answer = await loyalty_stub.RedeemPoints(spend)
    assert await loyalty_stub.RedeemPoints(spend) == answer
    assert await balance(loyalty_stub, member) == (30, {company: 30})
    for reused in (
        earn(member, company, 51, op=earning.operation_id),
        redeem(member, shop, 20, op=earning.operation_id),
        redeem(member, shop, 21, op=spend.operation_id),
        reverse(first.transaction.operation_id, op=spend.operation_id),
    ):
        call = loyalty_stub.EarnPoints if isinstance(reused, pb.EarnPointsRequest) else None
        call = call or (loyalty_stub.RedeemPoints if isinstance(reused, pb.RedeemPointsRequest) else None)
        failed = await fails((call or loyalty_stub.ReverseTransaction)(reused))
        assert (failed.code, failed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    assert await ledger(loyalty_db, member) == (30, 30, 2)


async def test_reversals_take_back_earnings_and_give_back_redemptions_once(loyalty_stub):
    member, a, shop = new_id(), new_id(), await redeemer(loyalty_stub)
    earned = (await loyalty_stub.EarnPoints(earn(member, a, 100))).transaction
    spent = (await loyalty_stub.RedeemPoints(redeem(member, shop, 40))).transaction
    back = reverse(spent.operation_id)
    given = (await loyalty_stub.ReverseTransaction(back)).transaction
    assert (given.kind, given.points, given.shortfall_points, given.reverses_operation_id) == (
        REVERSAL,
        40,
        0,
        spent.operation_id,
    )
    assert (await loyalty_stub.ReverseTransaction(back)).transaction == given
    assert (await loyalty_stub.ReverseTransaction(reverse(spent.operation_id))).transaction == given
    assert await balance(loyalty_stub, member) == (100, {a: 100})

    spent = (await loyalty_stub.RedeemPoints(redeem(member, shop, 30))).transaction
    taken = (await loyalty_stub.ReverseTransaction(reverse(earned.operation_id))).transaction
    assert (taken.points, taken.shortfall_points) == (-70, 30)
    # the redemption's points came from the reversed earning: they settle its shortfall
    late = (await loyalty_stub.ReverseTransaction(reverse(spent.operation_id))).transaction
    assert (late.points, late.shortfall_points) == (0, 30)
    assert await balance(loyalty_stub, member) == (0, {})
    again = await fails(loyalty_stub.ReverseTransaction(reverse(taken.operation_id)))
    assert (again.code, again.violations) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"transaction_operation_id": "names a reversal"},
    )


async def test_reversing_an_unknown_transaction_leaves_a_tombstone(loyalty_stub):
    member, company, unknown = new_id(), new_id(), new_id()
    nothing = (await loyalty_stub.ReverseTransaction(reverse(unknown))).transaction
    assert (nothing.points, nothing.member_id, nothing.reverses_operation_id) == (0, "", unknown)
    late = await fails(loyalty_stub.EarnPoints(earn(member, company, 10, op=unknown)))
    assert (late.code, late.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRANSACTION_REVERSED")
    assert await balance(loyalty_stub, member) == (0, {})


async def test_expired_points_stop_counting_and_the_job_writes_them_off(loyalty_stub, loyalty_db):
    member, company, shop = new_id(), new_id(), await redeemer(loyalty_stub)
    await loyalty_stub.SetEarnRule(
        pb.SetEarnRuleRequest(company_id=company, source=SESSION, points_per_unit="1", expiry_days=1)
    )
    lot = (await loyalty_stub.EarnPoints(earn(member, company, 70, source=SESSION))).transaction
    assert lot.HasField("expire_time")
    await loyalty_stub.EarnPoints(earn(member, company, 5))
    account = (await loyalty_stub.GetLoyaltyAccount(pb.GetLoyaltyAccountRequest(member_id=member))).account
    assert (account.balance, account.next_expire_time) == (75, lot.expire_time)
    await execute(
        loyalty_db,
        "UPDATE loyalty.lots SET expire_time = now() - interval '1 hour' WHERE lot_id = :l",
        l=lot.operation_id,
    )
    assert await balance(loyalty_stub, member) == (5, {company: 5})
    short = await fails(loyalty_stub.RedeemPoints(redeem(member, shop, 6)))
    assert short.metadata["available"] == "5"

    async def written_off():
        page = await loyalty_stub.ListPointTransactions(pb.ListPointTransactionsRequest(member_id=member))
        return [t for t in page.transactions if t.kind == EXPIRY]

    (expiry,) = await eventually(written_off)
    assert (expiry.points, [(b.issuer_company_id, b.points) for b in expiry.by_issuer]) == (-70, [(company, -70)])
    assert await ledger(loyalty_db, member) == (5, 5, 3)


async def test_transactions_newest_first_in_pages(loyalty_stub):
    member, company = new_id(), new_id()
    ops = [(await loyalty_stub.EarnPoints(earn(member, company, n + 1))).transaction.operation_id for n in range(5)]
    seen, token = [], ""
    while True:
        request = pb.ListPointTransactionsRequest(member_id=member, page_size=2, page_token=token)
        page = await loyalty_stub.ListPointTransactions(request)
        seen += [t.operation_id for t in page.transactions]
        if not (token := page.next_page_token):
            break
    assert seen == ops[::-1]
    forged = pb.ListPointTransactionsRequest(member_id=new_id(), page_token=token or "x")
    assert "page_token" in (await fails(loyalty_stub.ListPointTransactions(forged))).violations


async def test_bad_input_names_every_field_at_once(loyalty_stub):
    cases = [
        (
            loyalty_stub.SetEarnRule,
            pb.SetEarnRuleRequest(company_id="x", source=9, category="a\x00", points_per_unit="1e309", expiry_days=-1),
            {"company_id", "source", "category", "points_per_unit", "expiry_days"},
        ),
        (
            loyalty_stub.SetRedeemRule,
            pb.SetRedeemRuleRequest(company_id="", point_value=money(-1, 0, "XXX")),
            {"company_id", "point_value.currency_code"},
        ),
        (loyalty_stub.SetRedeemRule, pb.SetRedeemRuleRequest(company_id=new_id()), {"point_value"}),
        (
            loyalty_stub.GetLoyaltyAccount,
            pb.GetLoyaltyAccountRequest(member_id="nope", company_ids=[new_id(), "bad"]),
            {"member_id", "company_ids[1]"},
        ),
        (
            loyalty_stub.EarnPoints,
            pb.EarnPointsRequest(operation_id="1", points=5, amount=money(1), category="a\nb"),
            {"operation_id", "member_id", "company_id", "amount", "source", "category"},
        ),
        (
            loyalty_stub.EarnPoints,
            pb.EarnPointsRequest(operation_id=new_id(), member_id=new_id(), company_id=new_id(), amount=money(1, 1)),
            {"amount", "source"},
        ),
        (loyalty_stub.EarnPoints, earn(new_id(), new_id(), 0), {"points"}),
        (
            loyalty_stub.RedeemPoints,
            pb.RedeemPointsRequest(points=-3, issuer_company_ids=["?"]),
            {"operation_id", "member_id", "company_id", "points", "issuer_company_ids[0]"},
        ),
        (loyalty_stub.ReverseTransaction, pb.ReverseTransactionRequest(), {"operation_id", "transaction_operation_id"}),
        (loyalty_stub.ReverseTransaction, reverse(op := new_id(), op=op), {"operation_id"}),
        (
            loyalty_stub.ListPointTransactions,
            pb.ListPointTransactionsRequest(page_size=101),
            {"member_id", "page_size"},
        ),
    ]
    for call, request, fields in cases:
        failed = await fails(call(request))
        assert (failed.code, failed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
        assert set(failed.violations) == fields, (request, failed.violations)
