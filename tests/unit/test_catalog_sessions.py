"""Activities, sessions, extras, session seat holds and the finish job against the in-memory fakes."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.catalog import commands
from services.catalog import session_handlers as h
from services.catalog.domain import Session, SessionStatus, session_window_refused
from services.chassis.errors import FailedPrecondition, NotFound
from tests.unit.catalog_fakes import CatalogStore, FakeCatalogUnitOfWork

COMPANY = uuid.uuid4()


@pytest.fixture
def store() -> CatalogStore:
    return CatalogStore()


@pytest.fixture
def uow(store):
    return FakeCatalogUnitOfWork.factory(store)


def soon(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


async def activity(uow, company: uuid.UUID = COMPANY, name: str = "Kayak"):
    return await h.create_activity(commands.CreateActivity(company, name, "water"), uow)


async def session(uow, capacity: int = 5, start_h: float = 24, activity_id=None) -> Session:
    activity_id = activity_id or (await activity(uow)).activity_id
    cmd = commands.CreateSession(activity_id, soon(start_h), soon(start_h + 2), capacity, Decimal("25.00"), "EUR")
    return await h.create_session(cmd, uow)


def hold(s: Session, seats: int, booking: uuid.UUID | None = None) -> commands.HoldSessionSeats:
    return commands.HoldSessionSeats(s.session_id, booking or uuid.uuid4(), seats)


async def refused(call, error=FailedPrecondition):
    with pytest.raises(error) as caught:
        await call
    return caught.value


async def test_activities_are_listed_newest_first_by_company_page_by_page(uow):
    mine = [await activity(uow, name=f"A{i}") for i in range(3)]
    await activity(uow, company=uuid.uuid4())
    page, position = await h.list_activities(COMPANY, None, 2, uow)
    rest, last = await h.list_activities(COMPANY, position, 2, uow)
    assert [a.activity_id for a in page + rest] == [a.activity_id for a in reversed(mine)] and last is None
    assert len((await h.list_activities(None, None, 10, uow))[0]) == 4


async def test_a_session_takes_its_company_from_its_activity_which_must_exist(uow):
    s = await session(uow)
    assert (s.status, s.booked, s.seats_available) == (SessionStatus.SCHEDULED, 0, 5)
    assert s.company_id == COMPANY and await h.get_session(s.session_id, uow) == s
    cmd = commands.CreateSession(uuid.uuid4(), soon(1), soon(2), 5, Decimal("1.00"), "EUR")
    assert (await refused(h.create_session(cmd, uow), NotFound)).reason == "ACTIVITY_NOT_FOUND"
    assert (await refused(h.get_session(uuid.uuid4(), uow), NotFound)).reason == "SESSION_NOT_FOUND"


async def test_sessions_are_listed_soonest_first_with_filters_and_pages(uow):
    kayak, other = await activity(uow), await activity(uow, company=uuid.uuid4())
    made = [await session(uow, start_h=h_, activity_id=kayak.activity_id) for h_ in (30, 10, 20)]
    await session(uow, start_h=15, activity_id=other.activity_id)
    q = commands.ListSessions(activity_id=kayak.activity_id)
    page, position = await h.list_sessions(q, None, 2, uow)
    rest, last = await h.list_sessions(q, position, 2, uow)
    assert [s.session_id for s in page + rest] == [made[i].session_id for i in (1, 2, 0)] and last is None
    window = commands.ListSessions(company_id=COMPANY, start_after=soon(12), start_before=soon(25))
    assert [s.session_id for s in (await h.list_sessions(window, None, 10, uow))[0]] == [made[2].session_id]


async def test_extras_belong_to_an_existing_activity(uow):
    kayak = await activity(uow)
    paddle = await h.create_extra(commands.CreateExtra(kayak.activity_id, "Paddle", Decimal("4.50"), "EUR"), uow)
    vest = await h.create_extra(commands.CreateExtra(kayak.activity_id, "Vest", Decimal("2"), "EUR"), uow)
    assert await h.list_extras(kayak.activity_id, uow) == [paddle, vest]
    missing = commands.CreateExtra(uuid.uuid4(), "Paddle", Decimal("1"), "EUR")
    assert (await refused(h.create_extra(missing, uow), NotFound)).reason == "ACTIVITY_NOT_FOUND"
    assert (await refused(h.list_extras(uuid.uuid4(), uow), NotFound)).reason == "ACTIVITY_NOT_FOUND"


async def test_a_hold_is_idempotent_per_booking_resizes_and_never_overbooks(store, uow):
    s = await session(uow, capacity=5)
    booking = uuid.uuid4()
    assert (await h.hold_session_seats(hold(s, 2, booking), uow)).booked == 2
    assert (await h.hold_session_seats(hold(s, 2, booking), uow)).booked == 2  # a retry
    assert (await h.hold_session_seats(hold(s, 4, booking), uow)).booked == 4  # resized
    failure = await refused(h.hold_session_seats(hold(s, 2), uow))
    assert (failure.reason, failure.metadata) == ("SOLD_OUT", {"seats_available": "1"})
    assert store.sessions[s.session_id].booked == 4


async def test_a_release_frees_the_seats_once_and_leaves_a_tombstone(store, uow):
    s = await session(uow)
    booking, never = uuid.uuid4(), uuid.uuid4()
    await h.hold_session_seats(hold(s, 3, booking), uow)
    after, released = await h.release_session_seats(s.session_id, booking, uow)
    assert (after.booked, released) == (0, 3)
    assert (await h.release_session_seats(s.session_id, booking, uow))[1] == 0
    assert (await h.release_session_seats(s.session_id, never, uow))[1] == 0  # unknown: succeeds
    for late in (booking, never):
        failure = await refused(h.hold_session_seats(hold(s, 1, late), uow))
        assert (failure.reason, failure.metadata) == ("HOLD_RELEASED", {"booking_id": str(late)})
    assert store.sessions[s.session_id].booked == 0
    missing = h.release_session_seats(uuid.uuid4(), booking, uow)
    assert (await refused(missing, NotFound)).reason == "SESSION_NOT_FOUND"


async def test_a_started_or_finished_session_takes_no_hold_but_answers_a_repeat(store, uow):
    s = await session(uow)
    booking = uuid.uuid4()
    await h.hold_session_seats(hold(s, 1, booking), uow)
    store.sessions[s.session_id] = started = replace_times(store.sessions[s.session_id], start_h=-1, end_h=1)
    failure = await refused(h.hold_session_seats(hold(s, 1), uow))
    assert (failure.reason, failure.metadata["status"]) == ("SESSION_NOT_BOOKABLE", "STARTED")
    assert (await h.hold_session_seats(hold(s, 1, booking), uow)).booked == 1  # the same hold again
    store.sessions[s.session_id] = started.finished()
    failure = await refused(h.hold_session_seats(hold(s, 2, booking), uow))
    assert (failure.reason, failure.metadata["status"]) == ("SESSION_NOT_BOOKABLE", "FINISHED")
    assert (await h.release_session_seats(s.session_id, booking, uow))[1] == 1  # compensation still works


def replace_times(s: Session, start_h: float, end_h: float) -> Session:
    return replace(s, start_time=soon(start_h), end_time=soon(end_h))


async def test_the_finish_job_finishes_ended_sessions_in_batches_and_announces_each_once(store, uow):
    kayak = await activity(uow)
    ended = [await session(uow, activity_id=kayak.activity_id) for _ in range(5)]
    running = await session(uow, activity_id=kayak.activity_id)
    for s in ended:
        store.sessions[s.session_id] = replace_times(store.sessions[s.session_id], start_h=-3, end_h=-1)
    store.sessions[running.session_id] = replace_times(store.sessions[running.session_id], start_h=-1, end_h=1)
    assert await h.finish_ended_sessions(uow, batch=2) == 5
    assert {e.session_id for e in store.events} == {str(s.session_id) for s in ended} and len(store.events) == 5
    event = next(e for e in store.events if e.session_id == str(ended[0].session_id))
    assert (event.company_id, event.activity_id) == (str(COMPANY), str(kayak.activity_id))
    assert event.end_time.ToDatetime(tzinfo=UTC) == store.sessions[ended[0].session_id].end_time
    assert store.sessions[running.session_id].status is SessionStatus.SCHEDULED
    assert all(store.sessions[s.session_id].status is SessionStatus.FINISHED for s in ended)


async def test_the_finish_job_with_nothing_ended_is_one_query(store, uow):
    await session(uow)
    assert await h.finish_ended_sessions(uow, batch=10) == 0
    assert (store.probes, store.events) == (1, [])


def test_a_session_window_is_in_the_future_ordered_and_bounded():
    now = datetime.now(UTC)
    assert session_window_refused(now + timedelta(hours=1), now + timedelta(hours=2), now) == {}
    assert session_window_refused(now - timedelta(hours=1), now - timedelta(hours=2), now) == {
        "start_time": "must be in the future",
        "end_time": "must be after start_time",
    }
    assert set(session_window_refused(now + timedelta(hours=1), now + timedelta(days=40), now)) == {"end_time"}
