"""Wallet use cases against an in-memory unit of work: top-ups and their event, the bonus-first split,
refusals that write nothing, repeats, refunds and their tombstones, a company's one currency, pages."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from services.chassis.errors import Aborted, FailedPrecondition, InvalidArgument
from services.wallet import handlers
from services.wallet.commands import Debit, ListTransactions, Refund, TopUp
from services.wallet.domain import Kind
from tests.helpers import FakeClock
from tests.unit.wallet_fakes import FakeWalletUnitOfWork, Store

D = Decimal


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def deps(store, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakeWalletUnitOfWork.factory(store), clock=clock)


CUSTOMER, COMPANY = uuid.uuid4(), uuid.uuid4()


def top_up(cash: str, bonus: str = "0", currency: str = "EUR", customer: uuid.UUID = CUSTOMER) -> TopUp:
    return TopUp(uuid.uuid4(), customer, COMPANY, currency, D(cash), D(bonus))


def debit(amount: str, currency: str = "EUR", op: uuid.UUID | None = None) -> Debit:
    return Debit(op or uuid.uuid4(), CUSTOMER, COMPANY, currency, D(amount))


async def test_a_top_up_moves_the_balances_and_publishes_once(deps, store):
    cmd = top_up("20.00", "5.00")
    wallet, entry = await handlers.top_up(cmd, deps)
    assert (wallet.cash, wallet.bonus, wallet.total, entry.kind) == (D(20), D(5), D(25), Kind.TOP_UP)
    again, same = await handlers.top_up(cmd, deps)
    assert same == entry and again.total == D(25)
    assert [(e.operation_id, e.cash_balance.units, e.bonus_balance.units) for e in store.published] == [
        (str(cmd.operation_id), 20, 5)
    ]


async def test_a_debit_spends_the_bonus_first(deps):
    await handlers.top_up(top_up("10.00", "3.00"), deps)
    entry, wallet = await handlers.debit(debit("4.50"), deps)
    assert (entry.bonus, entry.cash, wallet.bonus, wallet.cash) == (D(3), D("1.50"), D(0), D("8.50"))


async def test_a_refused_debit_writes_nothing(deps, store):
    await handlers.top_up(top_up("2.00", "1.00"), deps)
    before = dict(store.entries)
    with pytest.raises(FailedPrecondition) as short:
        await handlers.debit(debit("3.01"), deps)
    assert (short.value.reason, short.value.metadata) == (
        "INSUFFICIENT_FUNDS",
        {"available": "3.00", "requested": "3.01"},
    )
    with pytest.raises(FailedPrecondition) as other:
        await handlers.debit(debit("1.00", currency="USD"), deps)
    assert other.value.reason == "CURRENCY_MISMATCH"
    assert store.entries == before


async def test_a_repeated_debit_answers_its_split_and_another_amount_is_key_reuse(deps):
    await handlers.top_up(top_up("10.00", "2.00"), deps)
    cmd = debit("5.00")
    first, _ = await handlers.debit(cmd, deps)
    await handlers.top_up(top_up("0", "9.00"), deps)
    again, wallet = await handlers.debit(cmd, deps)
    assert again == first and (first.bonus, first.cash) == (D(2), D(3)) and wallet.total == D(16)
    with pytest.raises(InvalidArgument) as reused:
        await handlers.debit(debit("6.00", op=cmd.operation_id), deps)
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_refund_gives_back_the_split_once(deps):
    await handlers.top_up(top_up("10.00", "2.00"), deps)
    took, _ = await handlers.debit(debit("5.00"), deps)
    cmd = Refund(uuid.uuid4(), took.operation_id)
    refund, wallet = await handlers.refund(cmd, deps)
    assert (refund.cash, refund.bonus, wallet.cash, wallet.bonus) == (D(3), D(2), D(10), D(2))
    assert await handlers.refund(cmd, deps) == (refund, wallet)
    other, _ = await handlers.refund(Refund(uuid.uuid4(), took.operation_id), deps)
    assert other == refund


async def test_a_refund_of_an_unknown_debit_leaves_a_tombstone(deps):
    await handlers.top_up(top_up("10.00"), deps)
    late = debit("1.00")
    refund, wallet = await handlers.refund(Refund(uuid.uuid4(), late.operation_id), deps)
    assert (refund.cash, refund.bonus, refund.customer_id, wallet) == (0, 0, None, None)
    with pytest.raises(FailedPrecondition) as refused:
        await handlers.debit(late, deps)
    assert refused.value.reason == "DEBIT_REFUNDED"


async def test_a_refund_naming_a_top_up_is_invalid(deps):
    _, entry = await handlers.top_up(top_up("10.00"), deps)
    with pytest.raises(InvalidArgument) as invalid:
        await handlers.refund(Refund(uuid.uuid4(), entry.operation_id), deps)
    assert [v.field for v in invalid.value.violations] == ["debit_operation_id"]


async def test_a_first_top_up_that_loses_the_race_for_the_currency(deps, store):
    store.racing_currency = "USD"
    with pytest.raises(FailedPrecondition) as lost:
        await handlers.top_up(top_up("5.00"), deps)
    assert (lost.value.reason, lost.value.metadata["currency"]) == ("CURRENCY_MISMATCH", "USD")
    store.racing_currency = None
    wallet, _ = await handlers.top_up(top_up("5.00", currency="USD"), deps)
    assert wallet.currency == "USD" and len(store.published) == len(store.entries) == 1


async def test_a_write_that_keeps_losing_races_is_aborted(deps, store, monkeypatch):
    async def nothing(self, wanted):
        return None

    await handlers.top_up(top_up("10.00"), deps)
    monkeypatch.setattr("tests.unit.wallet_fakes.FakeWallets.debit", nothing)  # funds there, never taken
    with pytest.raises(Aborted):
        await handlers.debit(debit("1.00"), deps)


async def test_transactions_come_newest_first_in_pages(deps, clock):
    for cash in ("1", "2", "3"):
        await handlers.top_up(top_up(cash), deps)
        clock.advance(seconds=1)
    page, after = await handlers.list_transactions(ListTransactions(CUSTOMER, COMPANY, None, 2), deps)
    assert [e.cash for e in page] == [D(3), D(2)] and after is not None
    rest, end = await handlers.list_transactions(ListTransactions(CUSTOMER, COMPANY, after, 2), deps)
    assert [e.cash for e in rest] == [D(1)] and end is None


async def test_a_wallet_without_entries_is_zero(deps):
    wallet = await handlers.get_wallet(uuid.uuid4(), COMPANY, deps)
    assert (wallet.currency, wallet.total, wallet.updated_at) == ("", 0, None)
    await handlers.top_up(top_up("1.00"), deps)
    assert (await handlers.get_wallet(uuid.uuid4(), COMPANY, deps)).currency == "EUR"
