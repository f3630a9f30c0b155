"""Cross-business redemptions and revenue settlements through partner-network's gRPC server with
real businesses, PostgreSQL and NATS (loyalty: the in-memory ledger behind its port, see conftest):
balanced settlements, once per period, members that left included, and the five events published
once each (read from NATS)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

import nats
import pytest
import sqlalchemy as sa
from novatrek.network.v1 import events_pb2
from novatrek.network.v1 import network_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from services.chassis.events import all_event_specs
from services.chassis.protoconv import date_to_proto, decimal_of
from tests.helpers import eventually
from tests.integration.network_fixtures import error_reason, founded, invited_and_joined

D = Decimal


@pytest.fixture
async def network_db(network_service):
    engine = create_async_engine(network_service.database_url)
    yield engine
    await engine.dispose()


async def _three_members(network_stub, businesses_stub, network_loyalty):
    network, a = await founded(network_stub, businesses_stub)
    b = await invited_and_joined(network_stub, businesses_stub, network, a)
    c = await invited_and_joined(network_stub, businesses_stub, network, a)
    for company, value in ((a, "0.10"), (b, "0.05"), (c, "0.02")):
        network_loyalty.point_values[uuid.UUID(company)] = (D(value), "EUR")
    return network, a, b, c


def _redeem(network: str, guest: uuid.UUID, at: str, points: int, operation_id: str | None = None):
    return pb.RedeemAcrossNetworkRequest(
        operation_id=operation_id or str(uuid.uuid4()),
        network_id=network,
        member_id=str(guest),
        company_id=at,
        points=points,
    )


def _settle(network: str, start: date, end: date) -> pb.SettleRevenueRequest:
    return pb.SettleRevenueRequest(network_id=network, period_start=date_to_proto(start), period_end=date_to_proto(end))


async def test_a_redemption_is_idempotent_and_refused_beyond_the_network_balance(
    network_stub, businesses_stub, network_loyalty, network_db
):
    network, a, b, _ = await _three_members(network_stub, businesses_stub, network_loyalty)
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(a), 200)
    request = _redeem(network, guest, b, 150)
    first, again = [await network_stub.RedeemAcrossNetwork(request) for _ in range(2)]
    assert first == again and decimal_of(first.value) == D("7.50")
    [t] = first.transactions
    assert (t.issuer_company_id, t.redeemer_company_id, t.points, decimal_of(t.value)) == (a, b, 150, D("7.50"))
    assert await error_reason(network_stub.RedeemAcrossNetwork(_redeem(network, guest, b, 51))) == "INSUFFICIENT_POINTS"
    listed = await network_stub.ListCrossBusinessTransactions(
        pb.ListCrossBusinessTransactionsRequest(network_id=network)
    )
    assert list(listed.transactions) == [t]
    async with network_db.connect() as conn:
        count = "SELECT count(*) FROM network.cross_business_transactions WHERE network_id = :n"
        assert (await conn.execute(sa.text(count), {"n": network})).scalar_one() == 1


async def test_concurrent_redemptions_of_one_balance_never_overdraw(network_stub, businesses_stub, network_loyalty):
    network, a, b, _ = await _three_members(network_stub, businesses_stub, network_loyalty)
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(a), 100)
    calls = [network_stub.RedeemAcrossNetwork(_redeem(network, guest, b, 30)) for _ in range(10)]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    assert len([x for x in answers if isinstance(x, pb.RedeemAcrossNetworkResponse)]) == 3
    assert network_loyalty.balance(guest) == 10


async def test_a_settlement_balances_to_zero_once_per_period_with_the_members_that_left(
    network_stub, businesses_stub, network_loyalty, network_clock
):
    network, a, b, c = await _three_members(network_stub, businesses_stub, network_loyalty)
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(a), 1000)
    network_loyalty.earn(guest, uuid.UUID(c), 500)
    done = await network_stub.RedeemAcrossNetwork(_redeem(network, guest, b, 1200))  # A's 1000, C's 200 at 0.05
    await network_stub.RedeemAcrossNetwork(_redeem(network, guest, a, 100))  # C's 100 at 0.10
    await network_stub.LeaveNetwork(pb.LeaveNetworkRequest(network_id=network, company_id=c))
    day = done.transactions[0].occur_time.ToDatetime().date()
    period = _settle(network, day, day + timedelta(days=1))
    settled = (await network_stub.SettleRevenue(period)).settlement  # today's, while it runs
    nets = {p.company_id: decimal_of(p.net) for p in settled.positions}
    assert nets == {a: D("-40.00"), b: D("60.00"), c: D("-20.00")} and sum(nets.values()) == 0
    transfers = [(t.from_company_id, t.to_company_id, decimal_of(t.amount)) for t in settled.transfers]
    assert transfers == [(a, b, D("40.00")), (c, b, D("20.00"))] and settled.transaction_count == 3
    assert (await network_stub.SettleRevenue(period)).settlement == settled
    overlapping = _settle(network, day - timedelta(days=2), day + timedelta(days=1))
    assert await error_reason(network_stub.SettleRevenue(overlapping)) == "PERIOD_OVERLAPS"
    not_ended = _settle(network, day + timedelta(days=1), day + timedelta(days=2))  # tomorrow: not yet
    assert await error_reason(network_stub.SettleRevenue(not_ended)) == "PERIOD_NOT_ENDED"
    listed = await network_stub.ListSettlements(pb.ListSettlementsRequest(network_id=network))
    assert list(listed.settlements) == [settled]


async def test_the_five_events_are_published_once_each(
    network_stub, businesses_stub, network_loyalty, network_clock, network_db, nats_url
):
    seen: list[tuple[str, object, dict]] = []

    async def record(msg) -> None:
        _, cls = all_event_specs()[msg.subject]
        seen.append((msg.subject, cls.FromString(msg.data), dict(msg.headers or {})))

    nc = await nats.connect(nats_url)
    await nc.subscribe("novatrek.network.>", cb=record)
    await nc.flush()
    try:
        network, a = await founded(network_stub, businesses_stub)
        b = await invited_and_joined(network_stub, businesses_stub, network, a)
        network_loyalty.point_values[uuid.UUID(b)] = (D("0.05"), "EUR")
        guest = uuid.uuid4()
        network_loyalty.earn(guest, uuid.UUID(a), 40)
        redeem = _redeem(network, guest, b, 40)
        for _ in range(2):
            await network_stub.RedeemAcrossNetwork(redeem)
        for _ in range(2):
            await network_stub.LeaveNetwork(pb.LeaveNetworkRequest(network_id=network, company_id=b))
        today = network_clock().date()
        network_clock.advance(days=1)
        for _ in range(2):
            await network_stub.SettleRevenue(_settle(network, today, today + timedelta(days=1)))

        def mine():
            return [s for s in seen if network in (getattr(s[1], "network_id", ""), _tx_network(s[1]))]

        await eventually(lambda: len(mine()) >= 5)
        await eventually(lambda: _outbox_empty(network_db))
        await nc.flush()
    finally:
        await nc.close()
    types = sorted(headers["ce-type"] for _, _, headers in mine())
    assert types == sorted(
        [
            "network.created",
            "partner.joined",
            "partner.left",
            "cross_business.transaction.completed",
            "revenue.settlement.processed",
        ]
    )
    for subject, _, headers in mine():
        assert subject == f"novatrek.network.{headers['ce-type']}" and headers["Nats-Msg-Id"] == headers["ce-id"]
    settled = next(e for _, e, _ in mine() if isinstance(e, events_pb2.RevenueSettlementProcessed))
    assert settled.currency == "EUR" and [decimal_of(p.net) for p in settled.positions] != []
    assert sum(decimal_of(p.net) for p in settled.positions) == 0 and len(settled.transfers) == 1


def _tx_network(event) -> str:
    return event.transaction.network_id if isinstance(event, events_pb2.CrossBusinessTransactionCompleted) else ""


async def _outbox_empty(engine) -> bool:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM network.outbox"))).scalar_one() == 0


async def test_a_redemption_after_today_was_settled_settles_in_tomorrows_period(
    network_stub, businesses_stub, network_loyalty, network_clock
):
    network, a, b, _ = await _three_members(network_stub, businesses_stub, network_loyalty)
    guest = uuid.uuid4()
    network_loyalty.earn(guest, uuid.UUID(a), 1000)
    day = network_clock().date()
    today = (await network_stub.SettleRevenue(_settle(network, day, day + timedelta(days=1)))).settlement
    late = await network_stub.RedeemAcrossNetwork(_redeem(network, guest, b, 200))  # today, but its period closed
    late_day = late.transactions[0].settlement_date
    assert late.transactions[0].occur_time.ToDatetime().date() == day
    assert (late_day.year, late_day.month, late_day.day) == (day + timedelta(days=1)).timetuple()[:3]
    network_clock.advance(days=1)
    tomorrow = await network_stub.SettleRevenue(_settle(network, day + timedelta(days=1), day + timedelta(days=2)))
    assert today.transaction_count == 0 and tomorrow.settlement.transaction_count == 1
    nets = {p.company_id: decimal_of(p.net) for p in tomorrow.settlement.positions}
    assert nets[a] == -nets[b] < 0 and sum(nets.values()) == 0
