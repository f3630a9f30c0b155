"""Stock reservation rules: idempotent answers, refusals, commit answers (pure Python)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound
from services.inventory.domain import Status, Stock, StockLine, StockReservation, committed, level_refused, refusal

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def held(*lines: StockLine, hold_s: int = 60) -> StockReservation:
    return StockReservation.held(uuid.uuid4(), lines, hold_s, NOW)


def test_a_reservation_keeps_its_lines_in_sku_order_and_expires_after_its_hold():
    r = held(StockLine("B", 1), StockLine("A", 2), hold_s=90)
    assert [line.sku for line in r.lines] == ["A", "B"] and r.status is Status.RESERVED
    assert r.expire_time == NOW + timedelta(seconds=90)


def test_a_repeat_is_answered_whatever_the_line_order_and_another_body_refused():
    r = held(StockLine("A", 2), StockLine("B", 1))
    assert r.answering((StockLine("B", 1), StockLine("A", 2)), 60) is r
    for lines, hold_s in [((StockLine("A", 2),), 60), ((StockLine("A", 2), StockLine("B", 2)), 60), (r.lines, 61)]:
        with pytest.raises(InvalidArgument) as refused:
            r.answering(lines, hold_s)
        assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


def test_the_refusal_names_the_first_sku_in_order_that_is_unknown_or_short():
    lines = (StockLine("C", 5), StockLine("B", 3), StockLine("A", 1))
    short = refusal(lines, {"A": 1, "B": 2, "C": None})
    assert (short.reason, short.metadata) == ("OUT_OF_STOCK", {"sku": "B", "available": "2"})
    unknown = refusal(lines, {"A": 1, "B": 3, "C": None})
    assert (unknown.reason, unknown.metadata) == ("SKU_NOT_FOUND", {"sku": "C"})
    with pytest.raises(ValueError):
        refusal(lines, {"A": 1, "B": 3, "C": 5})


def test_only_a_committed_reservation_answers_a_commit():
    r = held(StockLine("A", 1))
    assert (
        committed(r.checkout_id, StockReservation(**{**r.__dict__, "status": Status.COMMITTED})).status
        is Status.COMMITTED
    )
    for status in (Status.RELEASED, Status.RESERVED):  # reserved: it expired before the commit
        with pytest.raises(FailedPrecondition) as refused:
            committed(r.checkout_id, StockReservation(**{**r.__dict__, "status": status}))
        assert refused.value.reason == "RESERVATION_RELEASED"
    with pytest.raises(NotFound):
        committed(r.checkout_id, None)


def test_a_stock_level_is_refused_for_a_new_sku_without_name_or_below_reserved():
    assert [v.field for v in level_refused("A", None, 3).violations] == ["name"]
    below = level_refused("A", Stock("A", "Bag", 10, 7), 6)
    assert (below.reason, below.metadata) == ("STOCK_BELOW_RESERVED", {"sku": "A", "reserved": "7"})
