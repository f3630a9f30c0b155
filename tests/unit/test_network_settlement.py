"""The settlement arithmetic: positions net to zero exactly, the greedy transfers settle every net,
deterministically; a worked example (docs/partner-network.md) and a property test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.network.domain import CrossBusinessTransaction
from services.network.settlement import Position, Transfer, positions, transfers

D = Decimal
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
A, B, C, E = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def tx(issuer: uuid.UUID, redeemer: uuid.UUID, value: str) -> CrossBusinessTransaction:
    return CrossBusinessTransaction(
        uuid.uuid4(), uuid.uuid4(), uuid.UUID(int=99), issuer, redeemer, uuid.uuid4(), 1, D(value), D(value), "EUR", T0,
        T0.date(),
    )  # fmt: skip


def test_the_worked_example_of_the_docs():
    # A's points redeemed at B for 30.00 and at C for 12.50; C's at B for 7.25; B's at A for 5.00.
    made = [tx(A, B, "30.00"), tx(A, C, "12.50"), tx(C, B, "7.25"), tx(B, A, "5.00")]
    ps = positions(made, [A, B, C, E])
    assert [(p.company_id, p.receivable, p.payable, p.net) for p in ps] == [
        (A, D("5.00"), D("42.50"), D("-37.50")),
        (B, D("37.25"), D("5.00"), D("32.25")),
        (C, D("12.50"), D("7.25"), D("5.25")),
        (E, D(0), D(0), D(0)),  # a member without transactions: a zero position
    ]
    assert transfers(ps) == [Transfer(A, B, D("32.25")), Transfer(A, C, D("5.25"))]


def test_no_transactions_no_transfers():
    assert transfers(positions([], [A, B])) == []


def test_ties_are_broken_by_company_id_so_the_answer_is_deterministic():
    ps = [Position(B, D(0), D(5)), Position(A, D(0), D(5)), Position(C, D(10), D(0))]
    assert transfers(ps) == [Transfer(A, C, D(5)), Transfer(B, C, D(5))]


def test_positions_that_do_not_balance_are_refused():
    with pytest.raises(ValueError):
        transfers([Position(A, D(1), D(0))])


_cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: D(c).scaleb(-2))


@st.composite
def _transactions(draw):
    n = draw(st.integers(min_value=2, max_value=8))
    companies = [uuid.UUID(int=i + 1) for i in range(n)]
    pairs = st.tuples(st.sampled_from(companies), st.sampled_from(companies), _cents).filter(lambda p: p[0] != p[1])
    made = [tx(i, r, str(v)) for i, r, v in draw(st.lists(pairs, max_size=60))]
    return companies, made


@given(_transactions())
def test_nets_sum_to_zero_exactly_and_the_transfers_settle_every_net(case):
    companies, made = case
    ps = positions(made, companies)
    assert sum((p.net for p in ps), D(0)) == 0
    assert sum(p.receivable for p in ps) == sum(p.payable for p in ps) == sum((t.value for t in made), D(0))
    moved = transfers(ps)
    paid = {c: D(0) for c in companies}
    for t in moved:
        assert t.amount > 0 and t.from_company_id != t.to_company_id
        paid[t.from_company_id] -= t.amount
        paid[t.to_company_id] += t.amount
    assert all(paid[p.company_id] == p.net for p in ps)  # every debtor paid -net, every creditor got net
    assert len(moved) <= max(0, sum(1 for p in ps if p.net) - 1)
    assert transfers(list(reversed(ps))) == moved  # the order of the positions does not matter
