"""loyalty through its typed client (the names partner-network calls), and what each RPC costs
(statements and commits, counted by the chassis as docs/loyalty.md states them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from novatrek.loyalty.v1 import loyalty_pb2 as pb

from clients.loyalty import LoyaltyClient
from services.chassis.errors import FailedPrecondition
from tests.integration.conftest import spent
from tests.integration.loyalty_fixtures import SESSION, earn, money, new_id, redeem, redeemer, reverse


@pytest.fixture
async def client(loyalty_service):
    client = LoyaltyClient(loyalty_service.address)
    yield client
    await client.close()


async def test_the_client_earns_reads_redeems_across_issuers_and_reverses(client):
    member, a, b, shop = new_id(), new_id(), new_id(), new_id()
    await client.set_earn_rule(a, SESSION, "2", expiry_days=30)
    await client.set_redeem_rule(shop, Decimal("0.01"), "EUR")
    earned = await client.earn_points(new_id(), member, a, amount=(Decimal("10"), "EUR"), source=SESSION)
    assert earned.points == 20
    await client.earn_points(new_id(), member, b, points=15)
    account = await client.get_loyalty_account(member, company_ids=[a, b])
    assert (account.balance, {x.company_id: x.points for x in account.balances_by_issuer}) == (35, {a: 20, b: 15})
    answer = await client.redeem_points(new_id(), member, shop, 25, issuer_company_ids=[a, b])
    assert {x.issuer_company_id: x.points for x in answer.consumed} == {a: 20, b: 5}
    assert (answer.value, answer.point_value) == (money(0, 250_000_000), money(0, 10_000_000))
    with pytest.raises(FailedPrecondition) as refused:
        await client.redeem_points(new_id(), member, shop, 11)
    assert refused.value.reason == "INSUFFICIENT_POINTS"
    back = await client.reverse_transaction(new_id(), answer.transaction.operation_id)
    assert back.points == 25
    rules = await client.list_rules(shop)
    assert rules.redeem_rule.point_value == money(0, 10_000_000)
    assert len((await client.list_point_transactions(member)).transactions) == 4


async def test_what_each_rpc_costs(loyalty_stub):
    """Through the raw stub: the client marks calls made outside a call as background work."""
    member, company, shop = new_id(), new_id(), await redeemer(loyalty_stub)
    rule = pb.SetEarnRuleRequest(company_id=company, source=SESSION, points_per_unit="1")
    by_amount = earn(member, company, amount=money(50), source=SESSION)
    spend = redeem(member, shop, 10)
    costs = {
        "set earn rule": await spent("loyalty", loyalty_stub.SetEarnRule(rule)),
        "earn by rule": await spent("loyalty", loyalty_stub.EarnPoints(by_amount)),
        "earn, a repeat": await spent("loyalty", loyalty_stub.EarnPoints(by_amount)),
        "earn explicit": await spent("loyalty", loyalty_stub.EarnPoints(earn(member, company, 5))),
        "account": await spent(
            "loyalty", loyalty_stub.GetLoyaltyAccount(pb.GetLoyaltyAccountRequest(member_id=member))
        ),
        "redeem": await spent("loyalty", loyalty_stub.RedeemPoints(spend)),
        "redeem, a repeat": await spent("loyalty", loyalty_stub.RedeemPoints(spend)),
        "reverse": await spent("loyalty", loyalty_stub.ReverseTransaction(reverse(spend.operation_id))),
        "reverse unknown": await spent("loyalty", loyalty_stub.ReverseTransaction(reverse(new_id()))),
        "list": await spent(
            "loyalty", loyalty_stub.ListPointTransactions(pb.ListPointTransactionsRequest(member_id=member))
        ),
    }
    assert costs == {
        "set earn rule": (1, 1),
        "earn by rule": (3, 1),
        "earn, a repeat": (3, 1),
        "earn explicit": (2, 1),
        "account": (1, 0),
        "redeem": (5, 1),
        "redeem, a repeat": (1, 1),
        "reverse": (6, 1),
        "reverse unknown": (2, 1),
        "list": (1, 0),
    }
