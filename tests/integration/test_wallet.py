"""wallet through gRPC on real PostgreSQL and NATS: a ledger of cash and bonus per customer and
company, debits bonus first that never overdraw, idempotency per operation_id, refunds (with their
tombstones), currencies, and WalletToppedUp published once."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import grpc
import nats
import sqlalchemy as sa
from novatrek.wallet.v1 import events_pb2
from novatrek.wallet.v1 import wallet_pb2 as pb

from tests.helpers import eventually, fails
from tests.integration.wallet_fixtures import (
    debit_request,
    funded,
    ledger,
    money,
    new_id,
    top_up_request,
    wallet_db,  # noqa: F401 (fixture)
)

TOP_UP, DEBIT, REFUND = (pb.TRANSACTION_KIND_TOP_UP, pb.TRANSACTION_KIND_DEBIT, pb.TRANSACTION_KIND_REFUND)
SUBJECT = "novatrek.activities.wallet.topped-up"


async def test_a_customer_without_entries_has_zeros(wallet_stub):
    wallet = (await wallet_stub.GetWallet(pb.GetWalletRequest(customer_id=new_id(), company_id=new_id()))).wallet
    assert (wallet.currency, wallet.cash.units, wallet.bonus.units, wallet.total.units) == ("", 0, 0, 0)
    assert not wallet.HasField("update_time")


async def test_top_up_debit_refund_and_the_transactions_newest_first(wallet_stub, wallet_db):
    customer, company = new_id(), new_id()
    up = await wallet_stub.TopUpWallet(top_up_request(customer, company, money(50, 500_000_000), money(10)))
    assert (up.wallet.cash, up.wallet.bonus, up.wallet.total) == (
        money(50, 500_000_000),
        money(10),
        money(60, 500_000_000),
    )
    assert (up.transaction.kind, up.transaction.cash, up.transaction.bonus) == (
        TOP_UP,
        money(50, 500_000_000),
        money(10),
    )

    debit = await wallet_stub.DebitWallet(debit_request(customer, company, money(25)))
    assert (debit.transaction.kind, debit.transaction.bonus, debit.transaction.cash) == (DEBIT, money(10), money(15))
    assert (debit.wallet.cash, debit.wallet.bonus) == (money(35, 500_000_000), money(0))

    refund = await wallet_stub.RefundWallet(
        pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit.transaction.operation_id)
    )
    assert (refund.transaction.kind, refund.transaction.cash, refund.transaction.bonus) == (
        REFUND,
        money(15),
        money(10),
    )
    assert refund.transaction.refunds_operation_id == debit.transaction.operation_id
    assert (refund.wallet.cash, refund.wallet.bonus) == (money(50, 500_000_000), money(10))

    got = (await wallet_stub.GetWallet(pb.GetWalletRequest(customer_id=customer, company_id=company))).wallet
    assert got == refund.wallet and got.currency == "EUR"
    listed = await wallet_stub.ListWalletTransactions(
        pb.ListWalletTransactionsRequest(customer_id=customer, company_id=company)
    )
    assert [t.kind for t in listed.transactions] == [REFUND, DEBIT, TOP_UP]
    assert await ledger(wallet_db, customer, company) == (
        Decimal("50.50"),
        Decimal("10.00"),
        3,
        (Decimal("50.50"), Decimal("10.00")),
    )


async def test_a_debit_takes_the_bonus_first_then_cash(wallet_stub):
    customer, company = await funded(wallet_stub, cash=20, bonus=5)
    first = (await wallet_stub.DebitWallet(debit_request(customer, company, money(3)))).transaction
    assert (first.bonus, first.cash) == (money(3), money(0))
    second = await wallet_stub.DebitWallet(debit_request(customer, company, money(4, 250_000_000)))
    assert (second.transaction.bonus, second.transaction.cash) == (money(2), money(2, 250_000_000))
    assert (second.wallet.bonus, second.wallet.cash) == (money(0), money(17, 750_000_000))


async def test_insufficient_funds_writes_nothing_and_leaves_the_operation_id_unused(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=6, bonus=4)
    before = await ledger(wallet_db, customer, company)
    op = new_id()
    failure = await fails(wallet_stub.DebitWallet(debit_request(customer, company, money(10, 10_000_000), op)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS")
    assert failure.metadata == {"available": "10.00", "requested": "10.01"}
    assert await ledger(wallet_db, customer, company) == before
    # nothing was stored under the operation_id: the same id may pay a smaller amount later
    debit = await wallet_stub.DebitWallet(debit_request(customer, company, money(10), op))
    assert (debit.transaction.bonus, debit.transaction.cash) == (money(4), money(6))
    no_wallet = await fails(wallet_stub.DebitWallet(debit_request(new_id(), company, money(1))))
    assert (no_wallet.reason, no_wallet.metadata["available"]) == ("INSUFFICIENT_FUNDS", "0.00")


async def test_repeats_answer_the_same_transaction_and_another_body_is_key_reuse(wallet_stub, wallet_db):
    customer, company = new_id(), new_id()
    top = top_up_request(customer, company, money(30), money(5))
    first = await wallet_stub.TopUpWallet(top)
    again = await wallet_stub.TopUpWallet(top)
    assert again.transaction == first.transaction and again.wallet.total == money(35)

    debit = debit_request(customer, company, money(8))
    took = (await wallet_stub.DebitWallet(debit)).transaction
    await wallet_stub.TopUpWallet(top_up_request(customer, company, money(0), money(3)))  # the bonus changes
    repeat = await wallet_stub.DebitWallet(debit)
    assert repeat.transaction == took and (took.bonus, took.cash) == (money(5), money(3))
    assert repeat.wallet.total == money(30)

    reused = [
        top_up_request(customer, company, money(31), money(5), op=top.operation_id),
        top_up_request(new_id(), company, money(30), money(5), op=top.operation_id),
        debit_request(customer, company, money(9), op=debit.operation_id),
        debit_request(new_id(), company, money(8), op=debit.operation_id),
        debit_request(customer, company, money(1), op=top.operation_id),  # a top-up's id as a debit's
    ]
    for request in reused:
        call = wallet_stub.TopUpWallet if isinstance(request, pb.TopUpWalletRequest) else wallet_stub.DebitWallet
        failure = await fails(call(request))
        assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
        assert failure.metadata == {"operation_id": request.operation_id}
    assert (await ledger(wallet_db, customer, company))[2:] == (3, (Decimal("27.00"), Decimal("3.00")))


async def test_a_refund_is_made_once_per_debit(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=20, bonus=2)
    debit = (await wallet_stub.DebitWallet(debit_request(customer, company, money(5)))).transaction
    request = pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit.operation_id)
    first = await wallet_stub.RefundWallet(request)
    assert await wallet_stub.RefundWallet(request) == first
    other = await wallet_stub.RefundWallet(
        pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit.operation_id)
    )
    assert other.transaction == first.transaction  # the refund made, not a second one
    assert (await ledger(wallet_db, customer, company))[2:] == (3, (Decimal("20.00"), Decimal("2.00")))

    another_debit = (await wallet_stub.DebitWallet(debit_request(customer, company, money(1)))).transaction
    reused = await fails(
        wallet_stub.RefundWallet(
            pb.RefundWalletRequest(operation_id=request.operation_id, debit_operation_id=another_debit.operation_id)
        )
    )
    assert reused.reason == "IDEMPOTENCY_KEY_REUSED"
    top_up = (await wallet_stub.TopUpWallet(top_up_request(customer, company, money(1)))).transaction
    not_debit = await fails(
        wallet_stub.RefundWallet(pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=top_up.operation_id))
    )
    assert (not_debit.code, list(not_debit.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, ["debit_operation_id"])


async def test_a_refund_before_its_debit_leaves_a_tombstone_that_refuses_the_debit(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=10)
    debit_op = new_id()
    request = pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit_op)
    refund = await wallet_stub.RefundWallet(request)
    assert (refund.transaction.kind, refund.transaction.cash.units, refund.transaction.bonus.units) == (REFUND, 0, 0)
    assert refund.transaction.refunds_operation_id == debit_op and not refund.HasField("wallet")
    assert await wallet_stub.RefundWallet(request) == refund
    late = await fails(wallet_stub.DebitWallet(debit_request(customer, company, money(3), op=debit_op)))
    assert (late.code, late.reason, late.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "DEBIT_REFUNDED",
        {"operation_id": debit_op},
    )
    second = await wallet_stub.RefundWallet(pb.RefundWalletRequest(operation_id=new_id(), debit_operation_id=debit_op))
    assert second.transaction == refund.transaction
    assert await ledger(wallet_db, customer, company) == (Decimal("10.00"), Decimal("0.00"), 1, (Decimal("10.00"), 0))


async def test_fifty_debits_with_one_operation_id_debit_once(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=100)
    request = debit_request(customer, company, money(1))
    answers = await asyncio.gather(*(wallet_stub.DebitWallet(request) for _ in range(50)))
    assert len({a.transaction.SerializeToString() for a in answers}) == 1
    assert await ledger(wallet_db, customer, company) == (Decimal("99.00"), Decimal("0.00"), 2, (Decimal("99.00"), 0))


async def test_fifty_debits_over_a_balance_for_ten_debit_ten_and_never_overdraw(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=6, bonus=4)

    async def debit():
        try:
            return (await wallet_stub.DebitWallet(debit_request(customer, company, money(1)))).transaction
        except grpc.aio.AioRpcError as err:
            return err

    outcomes = await asyncio.gather(*(debit() for _ in range(50)))
    taken = [o for o in outcomes if isinstance(o, pb.Transaction)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert (len(taken), len(refused)) == (10, 40)
    assert {e.code() for e in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert sum(t.bonus.units for t in taken) == 4 and sum(t.cash.units for t in taken) == 6
    assert await ledger(wallet_db, customer, company) == (0, 0, 11, (0, 0))


async def test_refunds_racing_their_debits_leave_the_balance_as_it_was(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=20, bonus=5)
    pairs = [(new_id(), new_id()) for _ in range(20)]

    async def debit(op):
        try:
            return await wallet_stub.DebitWallet(debit_request(customer, company, money(1), op=op))
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return err

    calls = [debit(d) for d, _ in pairs]
    calls += [wallet_stub.RefundWallet(pb.RefundWalletRequest(operation_id=r, debit_operation_id=d)) for d, r in pairs]
    await asyncio.gather(*calls)
    cash, bonus, _, balance = await ledger(wallet_db, customer, company)
    assert (cash, bonus) == balance == (Decimal("20.00"), Decimal("5.00"))


async def test_top_up_publishes_wallet_topped_up_once(wallet_stub, wallet_service, wallet_db, nats_url):
    seen: list = []

    async def record(msg) -> None:
        seen.append((events_pb2.WalletToppedUp.FromString(msg.data), dict(msg.headers or {})))

    nc = await nats.connect(nats_url)
    await nc.subscribe(SUBJECT, cb=record)
    await nc.flush()
    try:
        customer, company = new_id(), new_id()
        request = top_up_request(customer, company, money(12, 340_000_000), money(3))
        for _ in range(3):
            await wallet_stub.TopUpWallet(request)
        mine = await eventually(lambda: [s for s in seen if s[0].operation_id == request.operation_id])
        await eventually(lambda: _outbox_empty(wallet_db))
        await nc.flush()
    finally:
        await nc.close()
    assert len([s for s in seen if s[0].operation_id == request.operation_id]) == 1
    event, headers = mine[0]
    assert (event.customer_id, event.company_id, event.cash, event.bonus) == (
        customer,
        company,
        money(12, 340_000_000),
        money(3),
    )
    assert (event.cash_balance, event.bonus_balance) == (money(12, 340_000_000), money(3))
    assert headers["ce-type"] == f"{SUBJECT}.v1" and headers["Nats-Msg-Id"] == headers["ce-id"]


async def _outbox_empty(engine) -> bool:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT count(*) FROM wallet.outbox"))).scalar_one() == 0


async def test_a_company_keeps_one_currency(wallet_stub, wallet_db):
    customer, company = await funded(wallet_stub, cash=10)
    other = new_id()
    for call in (
        wallet_stub.TopUpWallet(top_up_request(other, company, money(5, currency="USD"))),
        wallet_stub.DebitWallet(debit_request(customer, company, money(1, currency="USD"))),
        wallet_stub.DebitWallet(debit_request(other, company, money(1, currency="USD"))),
    ):
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CURRENCY_MISMATCH")
        assert failure.metadata == {"company_id": company, "currency": "EUR"}
    fresh = (await wallet_stub.GetWallet(pb.GetWalletRequest(customer_id=other, company_id=company))).wallet
    assert (fresh.currency, fresh.total) == ("EUR", money(0))
    assert (await ledger(wallet_db, other, company))[2:] == (0, None)


async def test_first_top_ups_racing_in_two_currencies_fix_one(wallet_stub, wallet_db):
    company = new_id()
    requests = [top_up_request(new_id(), company, money(1, currency="EUR" if i % 2 else "USD")) for i in range(10)]

    async def top_up(request):
        try:
            return (await wallet_stub.TopUpWallet(request)).wallet.currency
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
            return None

    currencies = {c for c in await asyncio.gather(*(top_up(r) for r in requests)) if c}
    assert len(currencies) == 1
    async with wallet_db.connect() as conn:
        stored = await conn.execute(
            sa.text("SELECT DISTINCT currency FROM wallet.entries WHERE company_id = :c"), {"c": company}
        )
        assert set(stored.scalars()) == currencies


async def test_pages_of_transactions(wallet_stub):
    customer, company = new_id(), new_id()
    for units in range(1, 6):
        await wallet_stub.TopUpWallet(top_up_request(customer, company, money(units)))
    seen, token = [], ""
    while True:
        page = await wallet_stub.ListWalletTransactions(
            pb.ListWalletTransactionsRequest(customer_id=customer, company_id=company, page_size=2, page_token=token)
        )
        seen += [t.cash.units for t in page.transactions]
        if not (token := page.next_page_token):
            break
    assert seen == [5, 4, 3, 2, 1]
    first = await wallet_stub.ListWalletTransactions(
        pb.ListWalletTransactionsRequest(customer_id=customer, company_id=company, page_size=2)
    )
    elsewhere = await fails(
        wallet_stub.ListWalletTransactions(
            pb.ListWalletTransactionsRequest(customer_id=new_id(), company_id=company, page_token=first.next_page_token)
        )
    )
    assert elsewhere.violations == {"page_token": "was issued for different filters"}


async def test_bad_input_names_every_bad_field(wallet_stub):
    top_up = await fails(
        wallet_stub.TopUpWallet(
            pb.TopUpWalletRequest(
                operation_id="nope",
                customer_id="",
                company_id=str(uuid.uuid4())[:-1],
                cash=money(1, 5_000_000),  # 1.005 EUR
                bonus=money(-2, currency="USD"),
            )
        )
    )
    assert top_up.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(top_up.violations) == {
        "operation_id",
        "customer_id",
        "company_id",
        "cash",
        "bonus",
        "bonus.currency_code",
    }
    debit = await fails(
        wallet_stub.DebitWallet(
            pb.DebitWalletRequest(operation_id="", customer_id="x", company_id="y", amount=money(0))
        )
    )
    assert set(debit.violations) == {"operation_id", "customer_id", "company_id", "amount"}
    unknown = await fails(wallet_stub.DebitWallet(debit_request(new_id(), new_id(), money(1, currency="XXX"))))
    assert set(unknown.violations) == {"amount.currency_code"}
    huge = await fails(wallet_stub.TopUpWallet(top_up_request(new_id(), new_id(), money(10**10))))
    assert set(huge.violations) == {"cash"}
    nothing = await fails(wallet_stub.TopUpWallet(top_up_request(new_id(), new_id(), money(0), money(0))))
    assert set(nothing.violations) == {"cash"}
    same = new_id()
    refund = await fails(wallet_stub.RefundWallet(pb.RefundWalletRequest(operation_id=same, debit_operation_id=same)))
    assert set(refund.violations) == {"operation_id"}
    listing = await fails(
        wallet_stub.ListWalletTransactions(pb.ListWalletTransactionsRequest(page_size=1000, page_token="forged"))
    )
    assert set(listing.violations) == {"page_size", "customer_id", "company_id", "page_token"}
