"""Requests and reads shared by the wallet's integration tests."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from google.type import money_pb2
from novatrek.wallet.v1 import wallet_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine


def new_id() -> str:
    return str(uuid.uuid4())


def money(units: int, nanos: int = 0, currency: str = "EUR") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def top_up_request(
    customer: str, company: str, cash: money_pb2.Money, bonus: money_pb2.Money | None = None, op: str | None = None
) -> pb.TopUpWalletRequest:
    return pb.TopUpWalletRequest(
        operation_id=op or new_id(), customer_id=customer, company_id=company, cash=cash, bonus=bonus
    )


def debit_request(customer: str, company: str, amount: money_pb2.Money, op: str | None = None) -> pb.DebitWalletRequest:
    return pb.DebitWalletRequest(operation_id=op or new_id(), customer_id=customer, company_id=company, amount=amount)


async def funded(stub, cash: int, bonus: int = 0, currency: str = "EUR") -> tuple[str, str]:
    """A new customer of a new company with this much in the wallet: (customer_id, company_id)."""
    customer, company = new_id(), new_id()
    await stub.TopUpWallet(top_up_request(customer, company, money(cash, 0, currency), money(bonus, 0, currency)))
    return customer, company


@pytest.fixture(scope="module")
async def wallet_db(wallet_service):
    engine = create_async_engine(wallet_service.database_url)
    yield engine
    await engine.dispose()


LEDGER = sa.text(
    "SELECT coalesce(sum(cash), 0), coalesce(sum(bonus), 0), count(*) FROM wallet.entries"
    " WHERE customer_id = :customer AND company_id = :company"
)
BALANCE = sa.text("SELECT cash, bonus FROM wallet.wallets WHERE customer_id = :customer AND company_id = :company")


async def ledger(engine, customer: str, company: str) -> tuple:
    """(sum of cash entries, sum of bonus entries, entries, balance row (cash, bonus) or None)."""
    async with engine.connect() as conn:
        params = {"customer": customer, "company": company}
        sums = (await conn.execute(LEDGER, params)).one()
        balance = (await conn.execute(BALANCE, params)).first()
    return (*sums, tuple(balance) if balance else None)
