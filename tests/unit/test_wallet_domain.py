"""The wallet's rules: the bonus-first split, what a repeat answers, why a debit or refund wrote nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.wallet.domain import (
    ZERO,
    Kind,
    Transaction,
    Wallet,
    debit_refused,
    refund_answer,
    refund_of,
    split,
)

D, NOW = Decimal, datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMER, COMPANY = uuid.uuid4(), uuid.uuid4()


def entry(kind: Kind, cash: str, bonus: str = "0", op: uuid.UUID | None = None, refunds=None) -> Transaction:
    return Transaction(op or uuid.uuid4(), kind, CUSTOMER, COMPANY, "EUR", D(cash), D(bonus), NOW, refunds)


@pytest.mark.parametrize(
    ("amount", "bonus", "taken"),
    [("5", "10", ("0", "5")), ("5", "5", ("0", "5")), ("5", "2", ("3", "2")), ("5", "0", ("5", "0"))],
)
def test_a_debit_takes_the_bonus_first(amount, bonus, taken):
    assert split(D(amount), D(bonus)) == (D(taken[0]), D(taken[1]))


def test_a_repeated_debit_compares_the_amount_not_its_split():
    stored = entry(Kind.DEBIT, "3", "2")
    assert stored.answering(entry(Kind.DEBIT, "5", op=stored.operation_id)) is stored
    with pytest.raises(InvalidArgument) as reused:
        stored.answering(entry(Kind.DEBIT, "6", op=stored.operation_id))
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    with pytest.raises(InvalidArgument):
        stored.answering(entry(Kind.TOP_UP, "3", "2", op=stored.operation_id))


def test_a_top_up_repeats_only_with_the_same_cash_and_bonus():
    stored = entry(Kind.TOP_UP, "3", "2")
    assert stored.answering(entry(Kind.TOP_UP, "3", "2", op=stored.operation_id)) is stored
    with pytest.raises(InvalidArgument):
        stored.answering(entry(Kind.TOP_UP, "2", "3", op=stored.operation_id))


def test_a_voided_debit_refuses_its_late_debit():
    voided = Transaction(uuid.uuid4(), Kind.VOIDED, None, None, None, ZERO, ZERO, NOW)
    with pytest.raises(FailedPrecondition) as refused:
        voided.answering(entry(Kind.DEBIT, "1", op=voided.operation_id))
    assert refused.value.reason == "DEBIT_REFUNDED"
    assert refund_of(voided, uuid.uuid4(), NOW).total == 0


def test_why_a_debit_took_nothing():
    wallet = Wallet(CUSTOMER, COMPANY, "EUR", D("1.00"), D("2.00"))
    assert debit_refused(wallet, "USD", D(1)).reason == "CURRENCY_MISMATCH"
    assert debit_refused(wallet, "EUR", D("3.01")).metadata == {"available": "3.00", "requested": "3.01"}
    assert debit_refused(wallet, "EUR", D("3.00")) is None  # funds arrived since: try again
    assert debit_refused(Wallet(CUSTOMER, COMPANY, ""), "EUR", D(1)).reason == "INSUFFICIENT_FUNDS"


def test_what_a_refund_that_wrote_nothing_answers():
    debit = entry(Kind.DEBIT, "3", "2")
    made = refund_of(debit, uuid.uuid4(), NOW)
    assert (made.cash, made.bonus, made.refunds_operation_id) == (D(3), D(2), debit.operation_id)
    assert refund_answer(made.operation_id, debit.operation_id, made, made, debit) is made
    assert refund_answer(uuid.uuid4(), debit.operation_id, None, made, debit) is made
    with pytest.raises(InvalidArgument):
        refund_answer(made.operation_id, uuid.uuid4(), made, None, None)
    top_up = entry(Kind.TOP_UP, "1")
    with pytest.raises(InvalidArgument) as not_debit:
        refund_answer(uuid.uuid4(), top_up.operation_id, None, None, top_up)
    assert [v.field for v in not_debit.value.violations] == ["debit_operation_id"]
    assert refund_answer(uuid.uuid4(), debit.operation_id, None, None, debit) is None  # raced: again
