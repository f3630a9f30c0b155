"""Activities, sessions, extras and session seat holds through the real trip-catalog server (stubs,
PostgreSQL); the finish job with two catalog processes racing on one database, read from NATS."""

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import nats
import pytest
import sqlalchemy as sa
from google.protobuf import timestamp_pb2
from google.type import money_pb2
from novatrek.catalog.v1 import catalog_pb2 as pb
from novatrek.catalog.v1 import catalog_pb2_grpc, events_pb2
from sqlalchemy.ext.asyncio import create_async_engine

from clients.catalog import CatalogClient
from services.catalog.config import CatalogSettings
from services.catalog.db import outbox
from services.catalog.domain import Activity, Session
from services.catalog.main import build as build_catalog
from services.catalog.repositories import CatalogUnitOfWork
from services.catalog.session_handlers import finish_ended_sessions
from services.chassis.errors import FailedPrecondition
from tests.helpers import eventually, fails
from tests.integration.conftest import fresh_database, serve

FINISHED = "novatrek.activities.session.finished"


def at(hours: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(hours=hours))
    return ts


def eur(units: int, nanos: int = 0) -> money_pb2.Money:
    return money_pb2.Money(currency_code="EUR", units=units, nanos=nanos)


async def new_activity(stub, company_id: str | None = None) -> pb.Activity:
    activity = pb.Activity(company_id=company_id or str(uuid.uuid4()), name="Sea kayak", category="water")
    return (await stub.CreateActivity(pb.CreateActivityRequest(activity=activity))).activity


async def new_session(stub, activity_id: str | None = None, capacity: int = 10, start_h: float = 24) -> pb.Session:
    activity_id = activity_id or (await new_activity(stub)).activity_id
    session = pb.Session(
        activity_id=activity_id, start_time=at(start_h), end_time=at(start_h + 2), capacity=capacity, price=eur(35)
    )
    return (await stub.CreateSession(pb.CreateSessionRequest(session=session))).session


def hold(s: pb.Session, seats: int, booking_id: str | None = None) -> pb.HoldSessionSeatsRequest:
    return pb.HoldSessionSeatsRequest(session_id=s.session_id, booking_id=booking_id or str(uuid.uuid4()), seats=seats)


async def move(database_url: str, session_ids: list[str], start_h: float, end_h: float) -> None:
    """Moves sessions in time (the API only schedules future ones)."""
    engine = create_async_engine(database_url)
    now = datetime.now(UTC)
    statement = sa.text(
        "UPDATE catalog.sessions SET start_time = :s, end_time = :e WHERE session_id = ANY(CAST(:ids AS uuid[]))"
    )
    async with engine.begin() as conn:
        params = {"s": now + timedelta(hours=start_h), "e": now + timedelta(hours=end_h), "ids": session_ids}
        await conn.execute(statement, params)
    await engine.dispose()


async def test_activities_sessions_and_extras_are_created_found_and_listed(catalog_stub):
    company = str(uuid.uuid4())
    kayak = await new_activity(catalog_stub, company)
    assert (kayak.company_id, kayak.name, kayak.category) == (company, "Sea kayak", "water")
    listed = await catalog_stub.ListActivities(pb.ListActivitiesRequest(company_id=company))
    assert [a.activity_id for a in listed.activities] == [kayak.activity_id]
    made = [await new_session(catalog_stub, kayak.activity_id, start_h=h) for h in (30, 10, 20)]
    s = made[1]
    assert (s.company_id, s.booked, s.available, s.status) == (company, 0, 10, pb.SESSION_STATUS_SCHEDULED)
    assert s.price == eur(35)
    assert (await catalog_stub.GetSession(pb.GetSessionRequest(session_id=s.session_id))).session == s

    first = await catalog_stub.ListSessions(pb.ListSessionsRequest(activity_id=kayak.activity_id, page_size=2))
    rest = await catalog_stub.ListSessions(
        pb.ListSessionsRequest(activity_id=kayak.activity_id, page_size=2, page_token=first.next_page_token)
    )
    soonest_first = [made[i].session_id for i in (1, 2, 0)]
    assert [x.session_id for x in [*first.sessions, *rest.sessions]] == soonest_first and not rest.next_page_token
    window = pb.ListSessionsRequest(company_id=company, start_after=at(15), start_before=at(25))
    assert [x.session_id for x in (await catalog_stub.ListSessions(window)).sessions] == [made[2].session_id]
    other_filters = pb.ListSessionsRequest(company_id=company, page_token=first.next_page_token)
    assert set((await fails(catalog_stub.ListSessions(other_filters))).violations) == {"page_token"}

    extra = pb.Extra(activity_id=kayak.activity_id, name="Dry bag", unit_price=eur(4, 500_000_000))
    created = (await catalog_stub.CreateExtra(pb.CreateExtraRequest(extra=extra))).extra
    listed_extras = await catalog_stub.ListExtras(pb.ListExtrasRequest(activity_id=kayak.activity_id))
    assert list(listed_extras.extras) == [created] and created.unit_price == eur(4, 500_000_000)


async def test_unknown_activities_and_sessions_are_not_found(catalog_stub):
    unknown = str(uuid.uuid4())
    session = pb.Session(activity_id=unknown, start_time=at(1), end_time=at(2), capacity=1, price=eur(1))
    cases = [
        (catalog_stub.CreateSession(pb.CreateSessionRequest(session=session)), "ACTIVITY_NOT_FOUND"),
        (catalog_stub.ListExtras(pb.ListExtrasRequest(activity_id=unknown)), "ACTIVITY_NOT_FOUND"),
        (catalog_stub.GetSession(pb.GetSessionRequest(session_id=unknown)), "SESSION_NOT_FOUND"),
        (
            catalog_stub.HoldSessionSeats(pb.HoldSessionSeatsRequest(session_id=unknown, booking_id=unknown, seats=1)),
            "SESSION_NOT_FOUND",
        ),
    ]
    for call, reason in cases:
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, reason)


async def test_bad_input_names_every_field(catalog_stub):
    bad_session = pb.Session(
        activity_id="nope", start_time=at(-1), end_time=at(-2), capacity=0, price=money_pb2.Money(currency_code="XXX")
    )
    failure = await fails(catalog_stub.CreateSession(pb.CreateSessionRequest(session=bad_session)))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {
        "session.activity_id",
        "session.start_time",
        "session.end_time",
        "session.capacity",
        "session.price.currency_code",
    }
    failure = await fails(catalog_stub.CreateSession(pb.CreateSessionRequest(session=pb.Session())))
    assert set(failure.violations) == {
        "session.activity_id",
        "session.start_time",
        "session.end_time",
        "session.capacity",
        "session.price",
    }
    failure = await fails(catalog_stub.CreateActivity(pb.CreateActivityRequest(activity=pb.Activity(name=" \x00"))))
    assert set(failure.violations) == {"activity.company_id", "activity.name"}
    failure = await fails(catalog_stub.CreateExtra(pb.CreateExtraRequest(extra=pb.Extra(unit_price=eur(-1)))))
    assert set(failure.violations) == {"extra.activity_id", "extra.name", "extra.unit_price"}
    failure = await fails(catalog_stub.HoldSessionSeats(pb.HoldSessionSeatsRequest(session_id="x", seats=0)))
    assert set(failure.violations) == {"session_id", "booking_id", "seats"}
    failure = await fails(catalog_stub.ReleaseSessionSeats(pb.ReleaseSessionSeatsRequest()))
    assert set(failure.violations) == {"session_id", "booking_id"}
    bad_list = pb.ListSessionsRequest(
        company_id="x", activity_id="y", start_after=at(2), start_before=at(1), page_size=-1, page_token="forged"
    )
    failure = await fails(catalog_stub.ListSessions(bad_list))
    assert set(failure.violations) == {"company_id", "activity_id", "start_before", "page_size", "page_token"}


async def test_a_hold_is_idempotent_per_booking_and_refuses_what_does_not_fit(catalog_stub):
    s = await new_session(catalog_stub, capacity=3)
    booking = str(uuid.uuid4())
    first = await catalog_stub.HoldSessionSeats(hold(s, 2, booking))
    again = await catalog_stub.HoldSessionSeats(hold(s, 2, booking))
    assert (first.session.booked, first.session.available, first.seats_held_for_booking) == (2, 1, 2)
    assert again.session.booked == 2 and again.session.price == eur(35)
    failure = await fails(catalog_stub.HoldSessionSeats(hold(s, 2)))
    assert (failure.code, failure.reason, failure.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "SOLD_OUT",
        {"seats_available": "1"},
    )
    assert (await catalog_stub.HoldSessionSeats(hold(s, 3, booking))).session.available == 0  # resized


async def test_a_storm_of_holds_never_overbooks(catalog_stub, catalog_service):
    s = await new_session(catalog_stub, capacity=20)
    answers = await asyncio.gather(
        *(catalog_stub.HoldSessionSeats(hold(s, 1)) for _ in range(60)), return_exceptions=True
    )
    held = [a for a in answers if isinstance(a, pb.HoldSessionSeatsResponse)]
    refusals = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(held) == 20 and len(refusals) == 40
    assert all(e.code() == grpc.StatusCode.FAILED_PRECONDITION for e in refusals)
    assert max(a.session.booked for a in held) == 20
    engine = create_async_engine(catalog_service.database_url)
    async with engine.connect() as conn:
        booked = (
            await conn.execute(sa.text(f"SELECT booked FROM catalog.sessions WHERE session_id = '{s.session_id}'"))
        ).scalar()
        rows = (
            await conn.execute(
                sa.text(f"SELECT sum(seats) FROM catalog.session_holds WHERE session_id = '{s.session_id}'")
            )
        ).scalar()
    await engine.dispose()
    assert booked == rows == 20


async def test_a_release_frees_once_and_its_tombstone_refuses_a_late_hold(catalog_stub):
    s = await new_session(catalog_stub, capacity=4)
    booking, never = str(uuid.uuid4()), str(uuid.uuid4())
    await catalog_stub.HoldSessionSeats(hold(s, 3, booking))
    release = pb.ReleaseSessionSeatsRequest(session_id=s.session_id, booking_id=booking)
    freed = await catalog_stub.ReleaseSessionSeats(release)
    assert (freed.seats_released, freed.session.booked, freed.session.available) == (1 * 3, 0, 4)
    assert (await catalog_stub.ReleaseSessionSeats(release)).seats_released == 0
    unknown = pb.ReleaseSessionSeatsRequest(session_id=s.session_id, booking_id=never)
    assert (await catalog_stub.ReleaseSessionSeats(unknown)).seats_released == 0
    for late in (booking, never):
        failure = await fails(catalog_stub.HoldSessionSeats(hold(s, 1, late)))
        assert (failure.code, failure.reason, failure.metadata) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "HOLD_RELEASED",
            {"booking_id": late},
        )
    assert (await catalog_stub.GetSession(pb.GetSessionRequest(session_id=s.session_id))).session.booked == 0


async def test_a_started_session_is_not_bookable(catalog_stub, catalog_service):
    s = await new_session(catalog_stub)
    booking = str(uuid.uuid4())
    await catalog_stub.HoldSessionSeats(hold(s, 1, booking))
    await move(catalog_service.database_url, [s.session_id], start_h=-0.5, end_h=1)
    failure = await fails(catalog_stub.HoldSessionSeats(hold(s, 1)))
    assert (failure.code, failure.reason, failure.metadata["status"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "SESSION_NOT_BOOKABLE",
        "STARTED",
    )
    assert (await catalog_stub.HoldSessionSeats(hold(s, 1, booking))).session.booked == 1  # a retry is answered


async def test_the_typed_client_holds_releases_and_passes_refusals_on(catalog_service, catalog_stub):
    s = await new_session(catalog_stub, capacity=1)
    client = CatalogClient(catalog_service.address)
    try:
        held = await client.hold_session_seats(s.session_id, str(uuid.uuid4()), 1)
        assert held.session.available == 0
        with pytest.raises(FailedPrecondition) as refused:
            await client.hold_session_seats(s.session_id, str(uuid.uuid4()), 1)
        assert refused.value.reason == "SOLD_OUT"
        assert (await client.get_session(s.session_id)).booked == 1
        assert (await client.release_session_seats(s.session_id, str(uuid.uuid4()))).seats_released == 0
        assert await client.list_extras(s.activity_id) == []
    finally:
        await client.close()


@pytest.fixture
async def two_catalogs(make_database, nats_url):
    """Two catalog processes on one database, finishing sessions every 50 ms, 3 per transaction."""
    url = await fresh_database(make_database, "trip-catalog", f"catalog_race_{uuid.uuid4().hex[:6]}")
    fast = {"nats_url": nats_url, "finish_interval_s": 0.05, "finish_batch": 3}
    running = [await serve(build_catalog, CatalogSettings, url, **fast) for _ in range(2)]
    yield running
    for r in running:
        await r.stop()


async def test_two_racing_finish_jobs_announce_each_ended_session_once(two_catalogs):
    a, b = two_catalogs
    stub = catalog_pb2_grpc.CatalogServiceStub(a.channel)
    kayak = await new_activity(stub)
    ended = [await new_session(stub, kayak.activity_id) for _ in range(12)]
    still = await new_session(catalog_pb2_grpc.CatalogServiceStub(b.channel), kayak.activity_id)
    seen: list[tuple[events_pb2.SessionFinished, dict]] = []

    async def on_message(msg) -> None:
        seen.append((events_pb2.SessionFinished.FromString(msg.data), dict(msg.headers or {})))

    nc = await nats.connect(a.runtime.settings.nats_url)
    try:
        await nc.subscribe(FINISHED, cb=on_message)
        await nc.flush()
        ids = [s.session_id for s in ended]
        await move(a.database_url, ids, start_h=-3, end_h=-1)
        await move(a.database_url, [still.session_id], start_h=-1, end_h=1)
        mine = set(ids)
        await eventually(lambda: mine <= {e.session_id for e, _ in seen})
        engine = create_async_engine(a.database_url)
        async with engine.connect() as conn:

            async def outbox_empty() -> bool:
                return (await conn.execute(sa.text("SELECT count(*) FROM catalog.outbox"))).scalar() == 0

            await eventually(outbox_empty)
            statuses = dict(
                (await conn.execute(sa.text("SELECT session_id::text, status FROM catalog.sessions"))).all()
            )
        await engine.dispose()
        await nc.flush()
    finally:
        await nc.close()
    counted = Counter(e.session_id for e, _ in seen if e.session_id in mine | {still.session_id})
    assert counted == dict.fromkeys(ids, 1)
    assert {statuses[i] for i in ids} == {"FINISHED"} and statuses[still.session_id] == "SCHEDULED"
    event, headers = next((e, h) for e, h in seen if e.session_id == ended[0].session_id)
    assert (event.company_id, event.activity_id) == (kayak.company_id, kayak.activity_id)
    assert headers["ce-type"] == "novatrek.activities.session.finished.v1"
    assert headers["ce-source"] == "//novatrek.io/trip-catalog"
    failure = await fails(stub.HoldSessionSeats(hold(ended[0], 1)))
    assert (failure.reason, failure.metadata["status"]) == ("SESSION_NOT_BOOKABLE", "FINISHED")


async def test_finish_jobs_racing_in_one_process_claim_each_session_once(make_database):
    """Eight finish jobs at once on one database, batches of 2: every ended session is finished by
    exactly one of them, with exactly one outbox row."""
    url = await fresh_database(make_database, "trip-catalog", f"catalog_claims_{uuid.uuid4().hex[:6]}")
    engine = create_async_engine(url, pool_size=10)

    def uow(**options):
        return CatalogUnitOfWork(engine, outbox, source="//novatrek.io/trip-catalog", **options)

    now = datetime.now(UTC)
    activity = Activity(uuid.uuid4(), "Climb", now)
    ended = [
        Session(
            activity.activity_id,
            activity.company_id,
            now - timedelta(hours=3),
            now - timedelta(hours=1),
            5,
            Decimal("10.00"),
            "EUR",
            now,
        )
        for _ in range(21)
    ]
    async with uow() as u:
        await u.activities.add(activity)
        for s in ended:
            await u.sessions.add(s)
    try:
        counts = await asyncio.gather(*(finish_ended_sessions(uow, batch=2) for _ in range(8)))
        async with engine.connect() as conn:
            payloads = (await conn.execute(sa.select(outbox.c.payload))).scalars().all()
    finally:
        await engine.dispose()
    assert sum(counts) == 21
    announced = Counter(events_pb2.SessionFinished.FromString(p).session_id for p in payloads)
    assert announced == {str(s.session_id): 1 for s in ended}
