"""Loyalty's rules (pure): points per unit rounded down, expiry, the FIFO plan across lots, the value of
points at a company, reversal answers; and what the consumed events carry (reservations' total)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, InvalidArgument
from services.loyalty.domain import (
    EarnRule,
    Kind,
    Lot,
    RedeemRule,
    Source,
    Transaction,
    event_operation,
    fifo_plan,
    redeem_reversal_moves,
    reversal_answer,
)
from services.reservations import events as reservation_events
from services.reservations.domain import Reservation, Status, StatusChange

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MEMBER, A, B = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def lot(points: int, issuer: uuid.UUID, expires_in_days: int | None, age_days: int = 0, remaining: int | None = None):
    expires = NOW + timedelta(days=expires_in_days) if expires_in_days is not None else None
    left = points if remaining is None else remaining
    return Lot(uuid.uuid4(), MEMBER, issuer, points, left, expires, NOW - timedelta(days=age_days))


def test_points_per_unit_round_down_and_rules_set_the_expiry():
    rule = EarnRule(A, Source.SESSION, "", Decimal("1.5"), 30, NOW)
    assert [rule.points_for(Decimal(v)) for v in ("0.66", "0.67", "10.99", "0")] == [0, 1, 16, 0]
    assert rule.expiry_from(NOW) == NOW + timedelta(days=30)
    assert EarnRule(A, Source.SESSION, "", Decimal(1), 0, NOW).expiry_from(NOW) is None


def test_point_value_is_rounded_half_even_to_the_currency():
    assert RedeemRule(A, "EUR", Decimal("0.015"), NOW).value_of(45) == Decimal("0.68")
    assert RedeemRule(A, "JPY", Decimal("0.5"), NOW).value_of(5) == Decimal("2")


def test_fifo_takes_the_soonest_expiry_first_then_the_oldest_and_never_expiring_last():
    forever, late, soon, older_soon = lot(10, A, None, 9), lot(10, B, 30), lot(10, A, 5), lot(10, B, 5, age_days=3)
    expired = lot(50, A, -1)
    moves = fifo_plan([forever, late, soon, expired, older_soon], 25, NOW)
    assert [(m.lot_id, m.delta) for m in moves] == [(older_soon.lot_id, -10), (soon.lot_id, -10), (late.lot_id, -5)]
    with pytest.raises(FailedPrecondition) as short:
        fifo_plan([forever, expired], 11, NOW)
    assert short.value.metadata == {"available": "10", "requested": "11"}


def test_a_redemption_gives_nothing_back_to_a_revoked_lot():
    kept, revoked = lot(10, A, None, age_days=1), lot(10, B, None)
    revoked = Lot(**{**revoked.__dict__, "revoked": True})
    taken = fifo_plan([kept, revoked], 15, NOW)
    assert [(m.lot_id, m.delta) for m in taken] == [(kept.lot_id, -10), (revoked.lot_id, -5)]
    back = redeem_reversal_moves(taken, {kept.lot_id: kept, revoked.lot_id: revoked})
    assert [(m.lot_id, m.delta) for m in back] == [(kept.lot_id, 10)]


def test_reversal_answers_repeats_and_refuses_what_cannot_be_reversed():
    target, op = uuid.uuid4(), uuid.uuid4()
    mine = Transaction(op, Kind.REVERSAL, MEMBER, A, -5, (), NOW, reverses_operation_id=target)
    assert reversal_answer(op, target, mine, None, None) is mine
    with pytest.raises(InvalidArgument):
        reversal_answer(op, uuid.uuid4(), mine, None, None)
    expiry = Transaction(target, Kind.EXPIRY, MEMBER, None, -5, (), NOW)
    with pytest.raises(InvalidArgument):
        reversal_answer(uuid.uuid4(), target, None, expiry, None)
    assert reversal_answer(uuid.uuid4(), target, None, None, None) is None


def test_event_operations_are_stable_per_subject_and_action():
    assert event_operation("booking", "b1", "earn") == event_operation("booking", "b1", "earn")
    assert (
        len(
            {event_operation("booking", "b1", a) for a in ("earn", "reverse")}
            | {event_operation("order", "b1", "earn")}
        )
        == 3
    )


def test_reservation_status_changes_carry_the_total_loyalty_earns_on():
    r = Reservation(
        uuid.uuid4(), MEMBER, uuid.uuid4(), "ABC123", Status.COMPLETED, date(2026, 7, 1), 2,
        Decimal("240.50"), "USD", 4, NOW, NOW,
    )  # fmt: skip
    event = reservation_events.status_changed(StatusChange(r, Status.CHECKED_IN, "ops", ""))
    assert (event.total_amount.currency_code, event.total_amount.units, event.total_amount.nanos) == (
        "USD",
        240,
        500_000_000,
    )
