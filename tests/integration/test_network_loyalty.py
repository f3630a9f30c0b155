"""Cross-business redemption through the real loyalty server (and real businesses, PostgreSQL and
NATS): points earned at A redeemed at B, more than the balance refused with nothing consumed, and
concurrent redemptions that never overdraw."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from google.type import money_pb2
from novatrek.loyalty.v1 import loyalty_pb2 as lpb
from novatrek.network.v1 import network_pb2 as pb

from services.chassis.protoconv import decimal_of
from tests.integration.network_fixtures import (
    error_reason,
    founded,
    invited_and_joined,
    network_over_loyalty,  # noqa: F401 (fixture)
)


async def _network_and_points(network_stub, businesses_stub, loyalty_stub, points: int):
    network, a = await founded(network_stub, businesses_stub)
    b = await invited_and_joined(network_stub, businesses_stub, network, a)
    rule = lpb.SetRedeemRuleRequest(company_id=b, point_value=money_pb2.Money(currency_code="EUR", nanos=50_000_000))
    await loyalty_stub.SetRedeemRule(rule)
    guest = str(uuid.uuid4())
    earn = lpb.EarnPointsRequest(operation_id=str(uuid.uuid4()), member_id=guest, company_id=a, points=points)
    await loyalty_stub.EarnPoints(earn)
    return network, a, b, guest


async def _balance(loyalty_stub, guest: str) -> int:
    return (await loyalty_stub.GetLoyaltyAccount(lpb.GetLoyaltyAccountRequest(member_id=guest))).account.balance


def _redeem(network: str, guest: str, at: str, points: int) -> pb.RedeemAcrossNetworkRequest:
    return pb.RedeemAcrossNetworkRequest(
        operation_id=str(uuid.uuid4()), network_id=network, member_id=guest, company_id=at, points=points
    )


async def test_points_earned_at_a_are_redeemed_at_b(network_over_loyalty, businesses_stub, loyalty_stub):
    network, a, b, guest = await _network_and_points(network_over_loyalty, businesses_stub, loyalty_stub, 200)
    request = _redeem(network, guest, b, 120)
    done, again = [await network_over_loyalty.RedeemAcrossNetwork(request) for _ in range(2)]
    assert done == again and decimal_of(done.value) == Decimal("6.00")
    [t] = done.transactions
    assert (t.issuer_company_id, t.redeemer_company_id, t.points) == (a, b, 120)
    assert (decimal_of(t.point_value), decimal_of(t.value)) == (Decimal("0.05"), Decimal("6.00"))
    assert await _balance(loyalty_stub, guest) == 80  # consumed once, though asked twice


async def test_more_than_the_balance_is_refused_and_nothing_consumed(
    network_over_loyalty, businesses_stub, loyalty_stub
):
    network, _, b, guest = await _network_and_points(network_over_loyalty, businesses_stub, loyalty_stub, 50)
    refused = network_over_loyalty.RedeemAcrossNetwork(_redeem(network, guest, b, 51))
    assert await error_reason(refused) == "INSUFFICIENT_POINTS"
    assert await _balance(loyalty_stub, guest) == 50


async def test_concurrent_redemptions_never_overdraw(network_over_loyalty, businesses_stub, loyalty_stub):
    network, _, b, guest = await _network_and_points(network_over_loyalty, businesses_stub, loyalty_stub, 100)
    calls = [network_over_loyalty.RedeemAcrossNetwork(_redeem(network, guest, b, 30)) for _ in range(20)]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    redeemed = [x for x in answers if isinstance(x, pb.RedeemAcrossNetworkResponse)]
    assert len(redeemed) == 3 and await _balance(loyalty_stub, guest) == 10
    listed = await network_over_loyalty.ListCrossBusinessTransactions(
        pb.ListCrossBusinessTransactionsRequest(network_id=network)
    )
    assert sum(t.points for t in listed.transactions) == 90
