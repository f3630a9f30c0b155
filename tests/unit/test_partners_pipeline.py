"""The partner booking saga on the chassis runner, against in-memory fakes of its ports and store:
success, compensation in reverse, what each failure does to the Idempotency-Key, the pivot, and
recovery of sagas the previous release persisted (its untyped dict state, copied from a real run)."""

import copy
import uuid
from decimal import Decimal

import pytest

from services.chassis.errors import FailedPrecondition, Unavailable
from services.chassis.saga import load_state
from services.partners import handlers
from services.partners.domain import BookingStatus
from services.partners.ports import EarlierRequest
from services.partners.saga_state import BookingSagaState
from tests.unit.partner_fakes import Bookings, Pipeline

FORWARD = [
    "guests.ensure_eligible",
    "reservations.create",
    "reservations.confirm",
    "volumes.take",
    "ledger.process",
]
UNDO_COMMISSION, UNDO_RESERVATION = ["volumes.give_back", "ledger.reverse"], ["reservations.cancel"]


async def test_a_booking_runs_every_step_and_stores_its_answer():
    pipeline = Pipeline()
    booking = await pipeline.book(party_size=2)
    world = pipeline.world
    assert world.calls == [*FORWARD, "bookings.add", "keys.complete"]
    assert (booking.status, booking.gross_amount, booking.commission_amount, booking.commission_rate) == (
        BookingStatus.CONFIRMED,
        Decimal("299.98"),
        Decimal("30.00"),  # 29.998 half-even
        Decimal("0.10"),
    )
    assert world.bookings == {booking.booking_id: booking} and world.payouts == [(Decimal("30.00"), "USD")]
    assert [e.booking.booking_id for e in world.events] == [str(booking.booking_id)]
    row = pipeline.store.only()
    assert (row["status"], row["steps_done"], row["state"]["state_version"]) == ("completed", 5, 2)
    # opened with the key's claim; written before the commission (whose reversal the row must reach)
    # and at the pivot; completed in the booking's own transaction (DESIGN §8)
    assert pipeline.store.writes == [("running", 0), ("running", 3), ("running", 4), ("completed", 5)]
    assert load_state(BookingSagaState, row["state"]).booking() == booking


async def test_a_replay_answers_with_the_stored_booking_and_runs_nothing():
    pipeline = Pipeline()
    first = await pipeline.book("k-again")
    calls = len(pipeline.world.calls)
    assert await pipeline.book("k-again") == first and len(pipeline.world.calls) == calls


@pytest.mark.parametrize(
    ("failing", "undone"),
    [
        ("guests.ensure_eligible", []),
        ("reservations.create", UNDO_RESERVATION),  # its answer may have been lost: undone too
        ("reservations.confirm", UNDO_RESERVATION),
        ("ledger.process", UNDO_COMMISSION + UNDO_RESERVATION),
    ],
)
async def test_a_failing_step_is_compensated_with_every_earlier_one_in_reverse(failing, undone):
    pipeline = Pipeline()
    pipeline.world.failing[failing] = Unavailable(f"{failing} is down")
    with pytest.raises(Unavailable):
        await pipeline.book()
    done = FORWARD[: FORWARD.index(failing) + 1]
    assert pipeline.world.calls == [*done, *undone, "keys.release"]  # transient: the key is free for a retry
    assert pipeline.world.keys == {} and pipeline.world.volume == {} and pipeline.world.bookings == {}
    assert pipeline.store.only()["status"] == "compensated"


async def test_a_final_error_is_stored_and_replayed_for_its_key():
    pipeline = Pipeline()
    sold_out = FailedPrecondition("no seats left", reason="SOLD_OUT")
    pipeline.world.failing["reservations.create"] = sold_out  # the seat hold's answer, passed on
    with pytest.raises(FailedPrecondition) as first:
        await pipeline.book("k-sold-out")
    assert pipeline.world.calls[-1] == "keys.refuse"
    del pipeline.world.failing["reservations.create"]  # seats freed since: the key keeps its answer
    with pytest.raises(FailedPrecondition) as again:
        await pipeline.book("k-sold-out")
    assert again.value == first.value == sold_out and pipeline.world.calls.count("reservations.create") == 1


async def test_a_compensation_that_keeps_failing_leaves_the_key_in_flight_for_recovery():
    pipeline = Pipeline()
    pipeline.world.failing["ledger.process"] = Unavailable("payments is down")
    pipeline.world.failing["ledger.reverse"] = Unavailable("payments is down")
    with pytest.raises(Unavailable):
        await pipeline.book("k-stuck")
    assert pipeline.store.only()["status"] == "compensating"
    assert [k.in_flight for k in pipeline.world.keys.values()] == [True]
    del pipeline.world.failing["ledger.reverse"]  # payments is back; the lease runs out
    pipeline.clock.advance(pipeline.runner.lease_s + 1)
    assert await pipeline.runner.recover_once() == 1
    assert pipeline.store.only()["status"] == "compensated" and pipeline.world.keys == {}


async def test_past_the_pivot_a_failure_is_left_for_recovery_which_finishes_the_booking():
    pipeline = Pipeline()
    pipeline.world.failing_once["bookings.add"] = ConnectionError("database restarted")
    with pytest.raises(ConnectionError):
        await pipeline.book("k-pivot")
    world = pipeline.world
    assert not any(c in world.calls for c in UNDO_COMMISSION + UNDO_RESERVATION)  # nothing undone
    assert pipeline.store.only()["status"] == "running"
    assert await pipeline.runner.recover_once() == 0  # its lease holds
    pipeline.clock.advance(pipeline.runner.lease_s + 1)
    assert await pipeline.runner.recover_once() == 1
    (booking,) = world.bookings.values()
    assert world.calls[-2:] == ["bookings.add", "keys.complete"] and pipeline.store.only()["status"] == "completed"
    assert await pipeline.book("k-pivot") == booking  # the key now answers with it


async def test_a_booking_whose_saga_recovery_took_over_is_unavailable_then_answered_by_its_key():
    """Its lease ran out during the last step (a slow database) and recovery finished the booking
    first: the caller is told to retry, not given an internal error, and the retry replays it."""
    pipeline, add, taken_over = Pipeline(), Bookings.add, []

    async def lease_lost_meanwhile(bookings, booking, now):
        if not taken_over:
            taken_over.append(booking)
            pipeline.clock.advance(pipeline.runner.lease_s + 1)
            assert await pipeline.runner.recover_once() == 1  # drives it forward and completes it
        return await add(bookings, booking, now)

    Bookings.add = lease_lost_meanwhile
    try:
        with pytest.raises(Unavailable) as refused:
            await pipeline.book("k-late")
    finally:
        Bookings.add = add
    assert refused.value.reason == "SAGA_RECOVERING" and pipeline.store.only()["status"] == "completed"
    assert await pipeline.book("k-late") == taken_over[0]  # the key answers with recovery's booking


# What the previous release wrote to saga_instances.state (a real run, all steps done).
PREVIOUS_RELEASE_STATE = {
    "plan": {"basis": "booking_count", "tiers": [["0", "0.10"]]},
    "rate": "0.10",
    "email": "",
    "gross": "299.98",
    "trip_id": "0fcae7bf-b158-41f0-be92-ac7e797a923d",
    "currency": "USD",
    "guest_id": "01efa5eb-3429-46a6-9e08-0ffb6ff3a778",
    "last_name": "",
    "trip_date": "2026-12-30",
    "booking_id": "973bad62-f305-4644-83ab-d8a290af9bc3",
    "commission": "30.00",
    "created_at": "2026-11-30T10:22:00.659724+00:00",
    "first_name": "",
    "partner_id": "20db2c54-af18-486d-a825-02638d06a5c5",
    "party_size": 2,
    "request_hash": "25a031906da3613a9dc6ab72365c3dd7122841a75cce8a8e51837583269c1ccb",
    "reservation_id": "0101591d-e6fe-5edb-9768-fb49d6cfc5c9",
    "idempotency_key": "cap",
    "confirmation_code": "3PWYPG89KEPJ",
    "partner_reference": "",
}
LEARNT_BY_STEP = {2: ("confirmation_code", "gross", "currency"), 4: ("commission", "rate")}


def previous_release_row(pipeline: Pipeline, steps_done: int) -> uuid.UUID:
    """A saga the previous release left running (its process died) after `steps_done` steps."""
    state = copy.deepcopy(PREVIOUS_RELEASE_STATE)
    for step, names in LEARNT_BY_STEP.items():
        if step >= steps_done:
            for name in names:
                del state[name]
    saga_id, at = uuid.uuid4(), pipeline.clock()
    partner_id = uuid.UUID(state["partner_id"])
    pipeline.world.keys[(partner_id, state["idempotency_key"])] = EarlierRequest(state["request_hash"], True)
    pipeline.store.rows[saga_id] = {
        "saga_type": "partner_booking",
        "status": "running",
        "steps_done": steps_done,
        "state": state,
        "lease_until": at,
        "created_at": at,
        "updated_at": at,
    }
    pipeline.clock.advance(1)
    return saga_id


async def test_a_saga_the_previous_release_left_past_its_pivot_is_recorded_by_recovery():
    pipeline = Pipeline()
    previous_release_row(pipeline, steps_done=5)
    assert await pipeline.runner.recover_once() == 1
    (booking,) = pipeline.world.bookings.values()
    assert (str(booking.booking_id), booking.confirmation_code, booking.currency) == (
        "973bad62-f305-4644-83ab-d8a290af9bc3",
        "3PWYPG89KEPJ",
        "USD",
    )
    assert (booking.gross_amount, booking.commission_amount, booking.commission_rate) == (
        Decimal("299.98"),
        Decimal("30.00"),
        Decimal("0.10"),
    )
    (key,) = pipeline.world.keys.values()
    assert (key.in_flight, key.booking) == (False, booking)
    assert pipeline.store.only()["status"] == "completed"


@pytest.mark.parametrize(
    ("steps_done", "undone"),
    [(1, []), (3, UNDO_RESERVATION), (4, UNDO_COMMISSION + UNDO_RESERVATION)],
)
async def test_a_saga_the_previous_release_left_before_its_pivot_is_compensated_by_recovery(steps_done, undone):
    pipeline = Pipeline()
    previous_release_row(pipeline, steps_done)
    assert await pipeline.runner.recover_once() == 1
    assert pipeline.world.calls == [*undone, "keys.release"]
    assert pipeline.world.keys == {} and pipeline.store.only()["status"] == "compensated"


async def test_a_saga_that_died_before_its_first_progress_write_has_its_reservation_undone():
    """Only the opening (with the key's claim) precedes the reservation's creation: recovery of such
    a row must still reach the reservation's cancel, and free the key."""
    pipeline = Pipeline()
    cmd = handlers.NewBooking(
        "k-died", "hash", uuid.uuid4(), "Ada", "Lovelace", "ada@example.com", uuid.uuid4(),
        pipeline.clock().date(), 2, "OTA-1",
    )  # fmt: skip
    state = BookingSagaState.start(vars(cmd), pipeline.partner, pipeline.clock())
    pipeline.world.keys[(pipeline.partner.partner_id, "k-died")] = EarlierRequest("hash", True)
    await pipeline.store.insert(state.booking_id, pipeline.runner.opening("partner_booking", state))
    pipeline.clock.advance(pipeline.runner.lease_s + 1)
    assert await pipeline.runner.recover_once() == 1
    assert pipeline.world.calls == [*UNDO_RESERVATION, "keys.release"]
    assert pipeline.world.keys == {} and pipeline.store.only()["status"] == "compensated"
