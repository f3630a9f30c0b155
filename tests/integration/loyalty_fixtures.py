"""Requests and reads shared by the loyalty's integration tests."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.type import money_pb2
from novatrek.loyalty.v1 import loyalty_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from tests.helpers import parse_failure

TRIP, SESSION, ORDER = pb.EARN_SOURCE_TRIP, pb.EARN_SOURCE_SESSION, pb.EARN_SOURCE_ORDER


def new_id() -> str:
    return str(uuid.uuid4())


def money(units: int, nanos: int = 0, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def earn(member: str, company: str, points: int = 0, op: str | None = None, **kw) -> pb.EarnPointsRequest:
    return pb.EarnPointsRequest(operation_id=op or new_id(), member_id=member, company_id=company, points=points, **kw)


def redeem(member: str, company: str, points: int, issuers=(), op: str | None = None) -> pb.RedeemPointsRequest:
    return pb.RedeemPointsRequest(
        operation_id=op or new_id(), member_id=member, company_id=company, points=points, issuer_company_ids=issuers
    )


def reverse(target: str, op: str | None = None) -> pb.ReverseTransactionRequest:
    return pb.ReverseTransactionRequest(operation_id=op or new_id(), transaction_operation_id=target)


async def redeemer(stub, cents: int = 1, currency: str = "EUR") -> str:
    """A new company whose points are worth `cents` hundredths each."""
    company = new_id()
    value = money(0, cents * 10_000_000, currency)
    await stub.SetRedeemRule(pb.SetRedeemRuleRequest(company_id=company, point_value=value))
    return company


async def balance(stub, member: str, *companies: str) -> tuple[int, dict[str, int]]:
    request = pb.GetLoyaltyAccountRequest(member_id=member, company_ids=companies)
    account = (await stub.GetLoyaltyAccount(request)).account
    return account.balance, {b.company_id: b.points for b in account.balances_by_issuer}


async def holder(stub, source: int, points_per_unit: str, expiry_days: int = 0) -> str:
    """The company that earns on an exclusive source (trip, order), with this "" rule: a new one when
    nobody holds it yet in this database, else the holder."""
    company = new_id()
    rule = pb.SetEarnRuleRequest(source=source, points_per_unit=points_per_unit, expiry_days=expiry_days)
    try:
        rule.company_id = company
        await stub.SetEarnRule(rule)
        return company
    except grpc.aio.AioRpcError as err:
        failure = parse_failure(err)
        assert failure.reason == "EARN_SOURCE_HELD", failure
        rule.company_id = failure.metadata["company_id"]
        await stub.SetEarnRule(rule)
        return rule.company_id


@pytest.fixture(scope="module")
async def loyalty_db(loyalty_service):
    engine = create_async_engine(loyalty_service.database_url)
    yield engine
    await engine.dispose()


LEDGER = sa.text(
    "SELECT (SELECT coalesce(sum(points), 0) FROM loyalty.entries WHERE member_id = :m),"
    " (SELECT coalesce(sum(remaining), 0) FROM loyalty.lots WHERE member_id = :m),"
    " (SELECT count(*) FROM loyalty.transactions WHERE member_id = :m)"
)


async def ledger(engine, member: str) -> tuple[int, int, int]:
    """(sum of the member's entries, sum of its lots' remaining, its transactions)."""
    async with engine.connect() as conn:
        return tuple((await conn.execute(LEDGER, {"m": member})).one())  # type: ignore[return-value]


async def execute(engine, statement: str, **params) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(statement), params)
