import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import sqlalchemy as sa
from google.type import date_pb2, money_pb2
from novatrek.catalog.v1 import catalog_pb2 as pb

from tests.helpers import fails, parse_failure

SOLD_OUT = (grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")


def day(offset: int) -> date_pb2.Date:
    d = datetime.now(UTC).date() + timedelta(days=offset)
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def usd(units: int, nanos: int = 0, currency: str = "USD") -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


async def new_trip(stub, **overrides) -> pb.Trip:
    fields = {"name": f"Glacier hike {uuid.uuid4().hex[:6]}", "price_per_person": usd(149, 990_000_000)}
    return (await stub.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(**{**fields, **overrides})))).trip


async def new_departure(stub, capacity: int = 10, offset: int = 30) -> pb.Departure:
    trip = await new_trip(stub)
    departure = pb.Departure(trip_id=trip.trip_id, departure_date=day(offset), capacity=capacity)
    return (await stub.CreateDeparture(pb.CreateDepartureRequest(departure=departure))).departure


def hold(d: pb.Departure, seats: int, reservation_id: str | None = None) -> pb.HoldSeatsRequest:
    return pb.HoldSeatsRequest(
        trip_id=d.trip_id,
        departure_date=d.departure_date,
        reservation_id=reservation_id or str(uuid.uuid4()),
        seats=seats,
    )


def release(d: pb.Departure, reservation_id: str) -> pb.ReleaseSeatsRequest:
    return pb.ReleaseSeatsRequest(trip_id=d.trip_id, departure_date=d.departure_date, reservation_id=reservation_id)


def check(d: pb.Departure, seats: int) -> pb.CheckAvailabilityRequest:
    return pb.CheckAvailabilityRequest(trip_id=d.trip_id, departure_date=d.departure_date, seats=seats)


async def seats_held(stub, d: pb.Departure) -> int:
    listed = (await stub.ListDepartures(pb.ListDeparturesRequest(trip_id=d.trip_id))).departures
    return next(x.seats_held for x in listed if x.departure_id == d.departure_id)


async def test_create_get_and_list_trips_newest_first(catalog_stub):
    trip = await new_trip(catalog_stub, description="  Ice and views  ")
    assert trip.active and trip.description == "Ice and views"
    assert (trip.price_per_person.units, trip.price_per_person.nanos) == (149, 990_000_000)
    assert (await catalog_stub.GetTrip(pb.GetTripRequest(trip_id=trip.trip_id))).trip == trip
    yen = await new_trip(catalog_stub, price_per_person=usd(5000, currency="JPY"))
    assert yen.price_per_person == usd(5000, currency="JPY")

    made = [(await new_trip(catalog_stub)).trip_id for _ in range(3)]
    seen, token = [], ""
    while True:
        page = await catalog_stub.ListTrips(pb.ListTripsRequest(page_size=2, page_token=token))
        assert len(page.trips) <= 2
        seen += [t.trip_id for t in page.trips]
        if not (token := page.next_page_token):
            break
    assert len(seen) == len(set(seen))
    assert [t for t in seen if t in made] == made[::-1]


async def test_trip_bad_input_names_the_violated_fields(catalog_stub):
    async def create_fails(**fields):
        failure = await fails(catalog_stub.CreateTrip(pb.CreateTripRequest(trip=pb.Trip(**fields))))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        return set(failure.violations)

    assert await create_fails() == {"trip.name", "trip.price_per_person"}
    assert await create_fails(name="x" * 201, price_per_person=usd(10)) == {"trip.name"}
    assert await create_fails(name="a", price_per_person=usd(1, 5_000_000)) == {"trip.price_per_person"}
    assert await create_fails(name="a", price_per_person=usd(100, 500_000_000, "JPY")) == {"trip.price_per_person"}
    assert await create_fails(name="a", price_per_person=usd(-1)) == {"trip.price_per_person"}
    assert await create_fails(name="a", price_per_person=usd(100_000_000)) == {"trip.price_per_person"}
    assert await create_fails(name="a", price_per_person=usd(10, currency="XXX")) == {
        "trip.price_per_person.currency_code"
    }

    for call, field in [
        (catalog_stub.GetTrip(pb.GetTripRequest(trip_id="nope")), "trip_id"),
        (catalog_stub.ListTrips(pb.ListTripsRequest(page_size=101)), "page_size"),
        (catalog_stub.ListTrips(pb.ListTripsRequest(page_token="forged")), "page_token"),
    ]:
        failure = await fails(call)
        assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {field})


async def test_departures_are_unique_per_date_and_listed_by_date(catalog_stub):
    trip = await new_trip(catalog_stub)
    for offset in (20, 0, 10):  # today is allowed
        created = await catalog_stub.CreateDeparture(
            pb.CreateDepartureRequest(
                departure=pb.Departure(trip_id=trip.trip_id, departure_date=day(offset), capacity=8)
            )
        )
        assert (created.departure.seats_held, created.departure.seats_available) == (0, 8)
    failure = await fails(
        catalog_stub.CreateDeparture(
            pb.CreateDepartureRequest(departure=pb.Departure(trip_id=trip.trip_id, departure_date=day(10), capacity=3))
        )
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.ALREADY_EXISTS, "DEPARTURE_EXISTS")

    listed = (await catalog_stub.ListDepartures(pb.ListDeparturesRequest(trip_id=trip.trip_id))).departures
    assert [d.departure_date for d in listed] == [day(0), day(10), day(20)]
    bounded = (
        await catalog_stub.ListDepartures(
            pb.ListDeparturesRequest(trip_id=trip.trip_id, start_date=day(10), end_date=day(20))
        )
    ).departures
    assert [d.departure_date for d in bounded] == [day(10), day(20)]
    failure = await fails(
        catalog_stub.ListDepartures(
            pb.ListDeparturesRequest(trip_id=trip.trip_id, start_date=day(20), end_date=day(10))
        )
    )
    assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {"start_date"})


async def test_departure_bad_input_names_the_violated_fields(catalog_stub):
    trip = await new_trip(catalog_stub)
    cases = [
        (pb.Departure(), {"departure.trip_id", "departure.departure_date", "departure.capacity"}),
        (pb.Departure(trip_id=trip.trip_id, departure_date=day(-1), capacity=5), {"departure.departure_date"}),
        (
            pb.Departure(trip_id=trip.trip_id, departure_date=date_pb2.Date(year=2031, month=2, day=30), capacity=5),
            {"departure.departure_date"},
        ),
        (pb.Departure(trip_id=trip.trip_id, departure_date=day(5), capacity=10_001), {"departure.capacity"}),
        (pb.Departure(trip_id="x", departure_date=day(5), capacity=0), {"departure.trip_id", "departure.capacity"}),
    ]
    for departure, fields in cases:
        failure = await fails(catalog_stub.CreateDeparture(pb.CreateDepartureRequest(departure=departure)))
        assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, fields)
    failure = await fails(
        catalog_stub.ListDepartures(
            pb.ListDeparturesRequest(trip_id=trip.trip_id, end_date=date_pb2.Date(year=2030, month=13, day=1))
        )
    )
    assert set(failure.violations) == {"end_date"}


async def test_unknown_trips_and_departures_are_not_found(catalog_stub):
    unknown = str(uuid.uuid4())
    trip_calls = [
        catalog_stub.GetTrip(pb.GetTripRequest(trip_id=unknown)),
        catalog_stub.CreateDeparture(
            pb.CreateDepartureRequest(departure=pb.Departure(trip_id=unknown, departure_date=day(3), capacity=5))
        ),
        catalog_stub.ListDepartures(pb.ListDeparturesRequest(trip_id=unknown)),
    ]
    for call in trip_calls:
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "TRIP_NOT_FOUND")
    departure = await new_departure(catalog_stub)
    elsewhere = pb.Departure(trip_id=departure.trip_id, departure_date=day(31))
    departure_calls = [
        catalog_stub.CheckAvailability(check(elsewhere, 1)),
        catalog_stub.HoldSeats(hold(elsewhere, 1)),
        catalog_stub.ReleaseSeats(release(elsewhere, str(uuid.uuid4()))),
    ]
    for call in departure_calls:
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "DEPARTURE_NOT_FOUND")


async def test_check_availability(catalog_stub):
    d = await new_departure(catalog_stub, capacity=5)
    answer = await catalog_stub.CheckAvailability(check(d, 5))
    assert (answer.available, answer.seats_available, answer.departure_id) == (True, 5, d.departure_id)
    assert answer.price_per_person == usd(149, 990_000_000)
    answer = await catalog_stub.CheckAvailability(check(d, 6))
    assert (answer.available, answer.seats_available) == (False, 5)
    failure = await fails(catalog_stub.CheckAvailability(pb.CheckAvailabilityRequest(trip_id="x", seats=0)))
    assert (failure.code, set(failure.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"trip_id", "departure_date", "seats"},
    )


async def test_hold_sets_the_reservations_seats_idempotently(catalog_stub):
    d = await new_departure(catalog_stub, capacity=10)
    reservation = str(uuid.uuid4())
    first = await catalog_stub.HoldSeats(hold(d, 3, reservation))
    assert (first.departure_id, first.seats_held_for_reservation, first.seats_available) == (d.departure_id, 3, 7)
    assert first.price_per_person == usd(149, 990_000_000)
    assert await catalog_stub.HoldSeats(hold(d, 3, reservation)) == first
    assert (await catalog_stub.HoldSeats(hold(d, 5, reservation))).seats_available == 5
    assert (await catalog_stub.HoldSeats(hold(d, 1, reservation))).seats_available == 9
    assert await seats_held(catalog_stub, d) == 1


async def test_hold_beyond_capacity_is_sold_out_and_writes_nothing(catalog_stub):
    d = await new_departure(catalog_stub, capacity=4)
    first = str(uuid.uuid4())
    await catalog_stub.HoldSeats(hold(d, 3, first))
    failure = await fails(catalog_stub.HoldSeats(hold(d, 2)))
    assert ((failure.code, failure.reason), failure.metadata) == (SOLD_OUT, {"seats_available": "1"})
    failure = await fails(catalog_stub.HoldSeats(hold(d, 5, first)))
    assert (failure.code, failure.reason) == SOLD_OUT
    assert await seats_held(catalog_stub, d) == 3
    assert (await catalog_stub.HoldSeats(hold(d, 4, first))).seats_available == 0


async def test_hold_and_release_bad_input(catalog_stub):
    d = await new_departure(catalog_stub)
    failure = await fails(catalog_stub.HoldSeats(pb.HoldSeatsRequest()))
    assert (failure.code, set(failure.violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        {"trip_id", "departure_date", "reservation_id", "seats"},
    )
    failure = await fails(catalog_stub.HoldSeats(hold(d, 0)))
    assert set(failure.violations) == {"seats"}
    failure = await fails(catalog_stub.HoldSeats(hold(d, 1, "not-a-uuid")))
    assert set(failure.violations) == {"reservation_id"}
    failure = await fails(catalog_stub.ReleaseSeats(release(d, "")))
    assert (failure.code, set(failure.violations)) == (grpc.StatusCode.INVALID_ARGUMENT, {"reservation_id"})


async def test_release_is_idempotent(catalog_stub):
    d = await new_departure(catalog_stub, capacity=6)
    reservation = str(uuid.uuid4())
    await catalog_stub.HoldSeats(hold(d, 4, reservation))
    released = await catalog_stub.ReleaseSeats(release(d, reservation))
    assert (released.seats_released, released.seats_available) == (4, 6)
    again = await catalog_stub.ReleaseSeats(release(d, reservation))
    assert (again.seats_released, again.seats_available) == (0, 6)
    never = await catalog_stub.ReleaseSeats(release(d, str(uuid.uuid4())))
    assert never.seats_released == 0 and await seats_held(catalog_stub, d) == 0


async def test_inactive_trip_takes_no_holds_but_releases(catalog_stub, catalog_service):
    d = await new_departure(catalog_stub)
    reservation = str(uuid.uuid4())
    await catalog_stub.HoldSeats(hold(d, 2, reservation))
    async with catalog_service.runtime.engine.begin() as conn:  # no RPC deactivates a trip yet
        await conn.execute(sa.text("UPDATE catalog.trips SET active = false WHERE trip_id = :id"), {"id": d.trip_id})
    failure = await fails(catalog_stub.HoldSeats(hold(d, 3, reservation)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TRIP_INACTIVE")
    answer = await catalog_stub.CheckAvailability(check(d, 1))
    assert not answer.available
    assert (await catalog_stub.ReleaseSeats(release(d, reservation))).seats_released == 2


async def test_concurrent_holds_never_overbook(catalog_stub):
    d = await new_departure(catalog_stub, capacity=10)
    results = await asyncio.gather(*(catalog_stub.HoldSeats(hold(d, 1)) for _ in range(40)), return_exceptions=True)
    won = [r for r in results if isinstance(r, pb.HoldSeatsResponse)]
    lost = [parse_failure(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert (len(won), len(lost)) == (10, 30)
    assert all((f.code, f.reason) == SOLD_OUT for f in lost)
    assert await seats_held(catalog_stub, d) == 10
    answer = await catalog_stub.CheckAvailability(check(d, 1))
    assert (answer.available, answer.seats_available) == (False, 0)


async def test_concurrent_holds_of_one_reservation_hold_once(catalog_stub):
    d = await new_departure(catalog_stub, capacity=10)
    reservation = str(uuid.uuid4())
    results = await asyncio.gather(*(catalog_stub.HoldSeats(hold(d, 2, reservation)) for _ in range(10)))
    assert {(r.seats_held_for_reservation, r.seats_available) for r in results} == {(2, 8)}
    assert await seats_held(catalog_stub, d) == 2
