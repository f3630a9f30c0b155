"""Reservation use cases against in-memory fakes of the ports."""

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, Unavailable
from services.reservations import handlers
from services.reservations.commands import AddParticipant, CreateReservation, TransitionStatus, UpdateReservation
from services.reservations.domain import Status
from services.reservations.holds import SeatHoldsOverQueue
from tests.unit.reservation_fakes import FakeGuests, FakeReleaseQueue, FakeSeats, FakeUow, Queued, Store

DAY = date.today() + timedelta(days=30)
TRIP = uuid.uuid4()


@pytest.fixture
def world():
    store, seats = Store(), FakeSeats(capacity=10)
    holds = SeatHoldsOverQueue(seats, FakeReleaseQueue(store, seats))
    deps = handlers.Deps(uow=lambda **_: FakeUow(store), guests=FakeGuests(), holds=holds)
    return store, seats, deps


def create_cmd(**overrides) -> CreateReservation:
    fields = {"request_id": uuid.uuid4(), "guest_id": uuid.uuid4(), "trip_id": TRIP, "trip_date": DAY, "party_size": 3}
    return CreateReservation(**{**fields, **overrides})


async def test_create_prices_holds_and_announces(world):
    store, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    assert (r.status, r.total_amount, r.currency, r.rev) == (Status.PENDING, Decimal("299.85"), "USD", 1)
    assert len(r.confirmation_code) == 12 and seats.held(TRIP, DAY) == 3
    assert [type(e).__name__ for e in store.events] == ["ReservationCreated"]
    assert store.history[0].old_status is None and store.participants[0].role == "lead"
    assert not store.releases  # the hold announced before it was taken is the reservation's


async def test_retry_with_same_request_id_creates_nothing_twice(world):
    store, seats, deps = world
    cmd = create_cmd()
    first, second = await handlers.create_reservation(cmd, deps), await handlers.create_reservation(cmd, deps)
    assert first == second and len(store.reservations) == 1 and seats.held(TRIP, DAY) == 3 and len(store.events) == 1


async def test_request_id_reused_for_another_booking_is_refused(world):
    _, seats, deps = world
    cmd = create_cmd()
    await handlers.create_reservation(cmd, deps)
    with pytest.raises(InvalidArgument) as err:
        await handlers.create_reservation(create_cmd(request_id=cmd.request_id, party_size=5), deps)
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED" and seats.held(TRIP, DAY) == 3


async def test_failure_after_the_hold_releases_it(world):
    store, seats, deps = world
    store.fail_commit = True
    with pytest.raises(ConnectionError):
        await handlers.create_reservation(create_cmd(), deps)
    assert seats.held(TRIP, DAY) == 0 and not store.events


async def test_currency_mismatch_releases_the_hold(world):
    _, seats, deps = world
    with pytest.raises(FailedPrecondition) as err:
        await handlers.create_reservation(create_cmd(currency="EUR"), deps)
    assert err.value.reason == "CURRENCY_MISMATCH" and seats.held(TRIP, DAY) == 0


async def test_dependency_down_or_ineligible_guest_writes_nothing(world):
    store, seats, deps = world
    cmd = create_cmd()
    deps.guests.ineligible.add(cmd.guest_id)
    with pytest.raises(FailedPrecondition):
        await handlers.create_reservation(cmd, deps)
    seats.down = True
    with pytest.raises(Unavailable):
        await handlers.create_reservation(create_cmd(), deps)
    assert not store.reservations and seats.holds == {}


async def test_a_hold_whose_answer_was_lost_is_released_once_the_catalog_is_back(world):
    store, seats, deps = world
    seats.crash_after_hold = True
    cmd = create_cmd()
    with pytest.raises(Unavailable):
        await handlers.create_reservation(cmd, deps)
    rid = handlers.reservation_id_for(cmd.request_id)
    assert (
        seats.held(TRIP, DAY) == 3 and list(store.releases) == [(rid, DAY)] and not store.reservations
    )  # queued, not lost
    seats.down = seats.crash_after_hold = False
    await deps.holds.release_queued(rid)
    assert seats.held(TRIP, DAY) == 0 and not store.releases


async def test_a_retry_takes_over_the_release_an_earlier_attempt_left(world):
    store, seats, deps = world
    seats.crash_after_hold = True
    cmd = create_cmd()
    with pytest.raises(Unavailable):
        await handlers.create_reservation(cmd, deps)
    seats.down = seats.crash_after_hold = False
    r = await handlers.create_reservation(cmd, deps)
    assert not store.releases and seats.held(TRIP, DAY) == 3 and r.reservation_id in store.reservations


async def test_a_refused_retry_gives_back_what_an_earlier_attempt_held(world):
    store, seats, deps = world
    seats.crash_after_hold = True
    cmd = create_cmd()
    with pytest.raises(Unavailable):  # 3 seats held, the answer lost, and their release cannot be made yet
        await handlers.create_reservation(cmd, deps)
    seats.down = seats.crash_after_hold = False
    with pytest.raises(FailedPrecondition):  # the same request id, now too big: SOLD_OUT
        await handlers.create_reservation(create_cmd(request_id=cmd.request_id, party_size=11), deps)
    assert seats.held(TRIP, DAY) == 0 and not store.releases  # the earlier attempt's hold is not stranded


async def test_a_write_whose_answer_was_lost_keeps_its_seats(world):
    store, seats, deps = world
    store.lose_commit_answer = True
    with pytest.raises(ConnectionError):
        await handlers.create_reservation(create_cmd(), deps)
    assert len(store.reservations) == 1 and seats.held(TRIP, DAY) == 3 and not store.releases


async def test_sold_out_is_a_failed_precondition(world):
    store, _, deps = world
    await handlers.create_reservation(create_cmd(party_size=8), deps)
    with pytest.raises(FailedPrecondition) as err:
        await handlers.create_reservation(create_cmd(party_size=3), deps)
    assert err.value.reason == "SOLD_OUT" and not store.releases  # nothing was held, nothing to give back


async def test_state_machine_and_history(world):
    store, _, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    with pytest.raises(FailedPrecondition) as err:
        await handlers.transition_status(TransitionStatus(r.reservation_id, Status.COMPLETED), deps)
    assert err.value.reason == "ILLEGAL_STATUS_TRANSITION"
    for to in (Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED):
        r = await handlers.transition_status(TransitionStatus(r.reservation_id, to, "ops", "step"), deps)
    assert r.status is Status.COMPLETED and r.rev == 4
    assert [(c.old_status, c.reservation.status) for c in store.history[1:]] == [
        (Status.PENDING, Status.CONFIRMED),
        (Status.CONFIRMED, Status.CHECKED_IN),
        (Status.CHECKED_IN, Status.COMPLETED),
    ]


async def test_stale_revision_is_aborted(world):
    _, _, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    await handlers.transition_status(TransitionStatus(r.reservation_id, Status.CONFIRMED, expected_revision=1), deps)
    with pytest.raises(Aborted) as err:
        await handlers.transition_status(
            TransitionStatus(r.reservation_id, Status.CANCELLED, expected_revision=1), deps
        )
    assert err.value.reason == "REVISION_MISMATCH"


async def test_cancel_releases_seats_and_is_idempotent(world):
    store, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    cancel = TransitionStatus(r.reservation_id, Status.CANCELLED, idempotent=True)
    first = await handlers.transition_status(cancel, deps)
    again = await handlers.transition_status(cancel, deps)
    assert first == again and seats.held(TRIP, DAY) == 0 and not store.releases


async def test_cancel_while_catalog_down_keeps_the_release_queued(world):
    store, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    seats.down = True
    await handlers.transition_status(TransitionStatus(r.reservation_id, Status.CANCELLED), deps)
    assert list(store.releases) == [(r.reservation_id, DAY)]


async def test_update_party_size_reprices_and_rolls_back_on_sold_out(world):
    _, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    bigger = await handlers.update_reservation(UpdateReservation(r.reservation_id, None, 5, expected_revision=1), deps)
    assert (bigger.party_size, bigger.total_amount, bigger.rev, seats.held(TRIP, DAY)) == (5, Decimal("499.75"), 2, 5)
    with pytest.raises(FailedPrecondition):
        await handlers.update_reservation(UpdateReservation(r.reservation_id, None, 11), deps)
    assert seats.held(TRIP, DAY) == 5


async def test_update_trip_date_moves_the_hold(world):
    _, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    moved = await handlers.update_reservation(UpdateReservation(r.reservation_id, DAY + timedelta(days=1), None), deps)
    assert moved.trip_date == DAY + timedelta(days=1)
    assert (seats.held(TRIP, DAY), seats.held(TRIP, DAY + timedelta(days=1))) == (0, 3)


async def _booked_then_moved(deps, breakdown, failure: type[Exception], later=DAY + timedelta(days=1)):
    """A reservation on DAY, then `breakdown()`, then a move to `later` that fails with `failure`."""
    r = await handlers.create_reservation(create_cmd(), deps)
    breakdown()
    with pytest.raises(failure):
        await handlers.update_reservation(UpdateReservation(r.reservation_id, later, None), deps)
    return r, later


async def test_a_date_change_whose_hold_answer_was_lost_leaves_its_release_queued(world):
    store, seats, deps = world
    r, later = await _booked_then_moved(deps, lambda: setattr(seats, "crash_after_hold", True), Unavailable)
    assert seats.held(TRIP, later) == 3 and list(store.releases) == [(r.reservation_id, later)]  # queued, not lost
    assert store.reservations[r.reservation_id].trip_date == DAY and seats.held(TRIP, DAY) == 3  # still on its day
    seats.down = seats.crash_after_hold = False
    await deps.holds.release_queued(r.reservation_id)
    assert (seats.held(TRIP, DAY), seats.held(TRIP, later), store.releases) == (3, 0, {})


async def test_a_date_change_whose_write_fails_gives_the_new_day_back(world):
    store, seats, deps = world
    _, later = await _booked_then_moved(deps, lambda: setattr(store, "fail_commit", True), ConnectionError)
    assert (seats.held(TRIP, DAY), seats.held(TRIP, later), store.releases) == (3, 0, {})


async def test_a_refused_date_change_keeps_an_older_release_of_the_reservation(world):
    store, seats, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    later, full = DAY + timedelta(days=1), DAY + timedelta(days=2)
    seats.holds[(TRIP, full, uuid.uuid4())] = 10  # someone else's: that day is sold out
    moved = await handlers.update_reservation(UpdateReservation(r.reservation_id, later, None), deps)
    store.releases[(r.reservation_id, DAY)] = Queued(TRIP, True)  # as if the move's release of DAY were pending
    with pytest.raises(FailedPrecondition):
        await handlers.update_reservation(UpdateReservation(moved.reservation_id, full, None), deps)
    assert list(store.releases) == [(r.reservation_id, DAY)]  # only the refused day's announcement went


async def test_participants_respect_party_size(world):
    _, _, deps = world
    r = await handlers.create_reservation(create_cmd(party_size=2), deps)
    friend = uuid.uuid4()
    await handlers.add_participant(AddParticipant(r.reservation_id, friend), deps)
    with pytest.raises(AlreadyExists):
        await handlers.add_participant(AddParticipant(r.reservation_id, friend), deps)
    with pytest.raises(FailedPrecondition) as err:
        await handlers.add_participant(AddParticipant(r.reservation_id, uuid.uuid4()), deps)
    assert err.value.reason == "PARTY_FULL"
    assert len(await handlers.list_participants(r.reservation_id, deps)) == 2


@pytest.mark.parametrize("expected_revision", [0, 1])
async def test_a_status_change_that_races_another_is_decided_again_on_a_fresh_read(world, expected_revision):
    store, _, deps = world
    r = await handlers.create_reservation(create_cmd(), deps)
    opened, raced = deps.uow, []

    def uow(**kind):
        if kind.get("autocommit") and not raced:  # another change commits between our read and our write
            raced.append(True)
            store.reservations[r.reservation_id] = replace(store.reservations[r.reservation_id], rev=2)
        return opened(**kind)

    deps.uow = uow
    cmd = TransitionStatus(r.reservation_id, Status.CONFIRMED, expected_revision=expected_revision)
    if expected_revision:  # the caller read revision 1: it must read again
        with pytest.raises(Aborted) as err:
            await handlers.transition_status(cmd, deps)
        assert err.value.reason == "REVISION_MISMATCH" and store.reservations[r.reservation_id].status is Status.PENDING
    else:
        confirmed = await handlers.transition_status(cmd, deps)
        assert (confirmed.status, confirmed.rev, len(store.history)) == (Status.CONFIRMED, 3, 2)
