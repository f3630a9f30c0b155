"""wallet through its typed client, and what each RPC costs (statements and commits, counted by the
chassis as docs/wallet.md states them)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from novatrek.wallet.v1 import wallet_pb2 as pb

from clients.wallet import WalletClient
from services.chassis.errors import FailedPrecondition
from tests.helpers import fails
from tests.integration.conftest import spent
from tests.integration.wallet_fixtures import debit_request, money, new_id, top_up_request


@pytest.fixture
async def client(wallet_service):
    client = WalletClient(wallet_service.address)
    yield client
    await client.close()


async def test_the_client_tops_up_debits_refunds_and_reads(client):
    customer, company = new_id(), new_id()
    up = await client.top_up(new_id(), customer, company, "EUR", Decimal("20.00"), Decimal("5.00"))
    assert up.wallet.total.units == 25
    debit = await client.debit(new_id(), customer, company, Decimal("7.50"), "EUR")
    assert (debit.transaction.bonus.units, debit.transaction.cash.units, debit.transaction.cash.nanos) == (
        5,
        2,
        500_000_000,
    )
    with pytest.raises(FailedPrecondition) as refused:
        await client.debit(new_id(), customer, company, Decimal("100"), "EUR")
    assert refused.value.reason == "INSUFFICIENT_FUNDS"
    refund = await client.refund(new_id(), debit.transaction.operation_id)
    assert (refund.wallet.cash.units, refund.wallet.bonus.units) == (20, 5)
    assert (await client.wallet(customer, company)).total.units == 25
    assert len((await client.transactions(customer, company)).transactions) == 3


async def test_what_each_rpc_costs(wallet_stub):
    """Through the raw stub: the client marks calls made outside a call as background work."""
    customer, company = new_id(), new_id()
    top_up, debit = top_up_request(customer, company, money(30)), debit_request(customer, company, money(8))
    get = pb.GetWalletRequest(customer_id=customer, company_id=company)
    costs = {
        "get (no wallet)": await spent("wallet", wallet_stub.GetWallet(get)),
        "top-up (first)": await spent("wallet", wallet_stub.TopUpWallet(top_up)),
        "top-up": await spent("wallet", wallet_stub.TopUpWallet(top_up_request(customer, company, money(5), money(5)))),
        "top-up (repeat)": await spent("wallet", wallet_stub.TopUpWallet(top_up)),
        "get": await spent("wallet", wallet_stub.GetWallet(get)),
        "debit": await spent("wallet", wallet_stub.DebitWallet(debit)),
        "debit (repeat)": await spent("wallet", wallet_stub.DebitWallet(debit)),
        "debit (refused)": await spent(
            "wallet", fails(wallet_stub.DebitWallet(debit_request(customer, company, money(999))))
        ),
        "refund": await spent("wallet", wallet_stub.RefundWallet(refund_request(debit.operation_id))),
        "refund (unknown debit)": await spent("wallet", wallet_stub.RefundWallet(refund_request(new_id()))),
        "list": await spent(
            "wallet",
            wallet_stub.ListWalletTransactions(
                pb.ListWalletTransactionsRequest(customer_id=customer, company_id=company)
            ),
        ),
    }
    assert costs == {
        "get (no wallet)": (1, 0),
        "top-up (first)": (2, 1),
        "top-up": (2, 1),
        "top-up (repeat)": (2, 1),
        "get": (1, 0),
        "debit": (1, 1),
        "debit (repeat)": (2, 1),
        "debit (refused)": (2, 1),
        "refund": (1, 1),
        "refund (unknown debit)": (1, 1),
        "list": (1, 0),
    }


def refund_request(debit_operation_id: str) -> pb.RefundWalletRequest:
    return pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit_operation_id)
