"""ReservationService through the real server, stubs, PostgreSQL, guest-profiles and trip-catalog."""

import asyncio
import itertools
import uuid

import grpc
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from google.type import date_pb2
from novatrek.reservations.v1 import reservations_pb2 as pb

from services.chassis.protoconv import date_to_proto
from tests.helpers import fails
from tests.integration.booking import create_request, future_day, new_departure, new_guest, seats_available


async def booked(guests_stub, catalog_stub, reservations_stub, party_size=2, capacity=20):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=capacity)
    request = create_request(guest_id, trip_id, day, party_size)
    reservation = (await reservations_stub.CreateReservation(request)).reservation
    return reservation, request


async def test_create_then_read_it_back_every_way(guests_stub, catalog_stub, reservations_stub):
    r, _request = await booked(guests_stub, catalog_stub, reservations_stub, party_size=3)
    assert r.status == pb.RESERVATION_STATUS_PENDING and r.revision == 1 and len(r.confirmation_code) == 12
    assert (r.total_amount.currency_code, r.total_amount.units, r.total_amount.nanos) == ("USD", 449, 970_000_000)
    assert (
        await reservations_stub.GetReservation(pb.GetReservationRequest(reservation_id=r.reservation_id))
    ).reservation == r
    assert (
        await reservations_stub.GetReservation(pb.GetReservationRequest(confirmation_code=r.confirmation_code.lower()))
    ).reservation == r
    found = await reservations_stub.SearchReservations(pb.SearchReservationsRequest(guest_id=r.guest_id))
    assert [x.reservation_id for x in found.reservations] == [r.reservation_id]
    participants = (
        await reservations_stub.ListParticipants(pb.ListParticipantsRequest(reservation_id=r.reservation_id))
    ).participants
    assert [(p.guest_id, p.role) for p in participants] == [(r.guest_id, "lead")]
    assert await seats_available(catalog_stub, r.trip_id, future_day()) == 17


async def test_retry_with_the_same_request_id_books_once(guests_stub, catalog_stub, reservations_stub):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=10)
    request = create_request(guest_id, trip_id, day, party_size=2)
    answers = await asyncio.gather(*(reservations_stub.CreateReservation(request) for _ in range(10)))
    assert len({a.reservation.reservation_id for a in answers}) == 1
    assert await seats_available(catalog_stub, trip_id, day) == 8
    again = pb.CreateReservationRequest()
    again.CopyFrom(request)
    again.party_size = 3
    failure = await fails(reservations_stub.CreateReservation(again))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    assert await seats_available(catalog_stub, trip_id, day) == 8


async def test_racing_for_the_last_seats_sells_exactly_the_capacity(guests_stub, catalog_stub, reservations_stub):
    trip_id, day = await new_departure(catalog_stub, capacity=7)
    guests = await asyncio.gather(*(new_guest(guests_stub) for _ in range(25)))
    results = await asyncio.gather(
        *(reservations_stub.CreateReservation(create_request(g, trip_id, day, 1)) for g in guests),
        return_exceptions=True,
    )
    sold = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(sold) == 7 and len(refused) == 18
    assert {e.code() for e in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert await seats_available(catalog_stub, trip_id, day) == 0
    listed = await reservations_stub.SearchReservations(pb.SearchReservationsRequest(trip_id=trip_id, page_size=100))
    assert len(listed.reservations) == 7


async def test_sold_out_and_ineligible_guest_are_failed_preconditions(guests_stub, catalog_stub, reservations_stub):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=2)
    failure = await fails(reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 3)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SOLD_OUT")
    failure = await fails(reservations_stub.CreateReservation(create_request(str(uuid.uuid4()), trip_id, day, 1)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "GUEST_NOT_ELIGIBLE")
    assert failure.metadata["reasons"] == "NOT_FOUND"
    failure = await fails(reservations_stub.CreateReservation(create_request(guest_id, trip_id, future_day(31), 1)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DEPARTURE_NOT_FOUND")
    failure = await fails(
        reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 1, currency_code="EUR"))
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CURRENCY_MISMATCH")
    assert await seats_available(catalog_stub, trip_id, day) == 2


async def test_bad_input_names_every_bad_field(reservations_stub):
    past = date_pb2.Date(year=2001, month=1, day=1)
    bad = pb.CreateReservationRequest(
        request_id="x", guest_id="", trip_id="nope", trip_date=past, party_size=0, currency_code="XXX"
    )
    failure = await fails(reservations_stub.CreateReservation(bad))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {"request_id", "guest_id", "trip_id", "trip_date", "party_size", "currency_code"}
    failure = await fails(reservations_stub.GetReservation(pb.GetReservationRequest()))
    assert "reservation_id" in failure.violations
    failure = await fails(reservations_stub.GetReservation(pb.GetReservationRequest(confirmation_code="SHORT")))
    assert "confirmation_code" in failure.violations
    failure = await fails(
        reservations_stub.SearchReservations(pb.SearchReservationsRequest(page_token="not-ours", page_size=500))
    )
    assert set(failure.violations) == {"page_token", "page_size"}
    mask = field_mask_pb2.FieldMask(paths=["guest_id", "party_size"])
    failure = await fails(
        reservations_stub.UpdateReservation(
            pb.UpdateReservationRequest(
                reservation=pb.Reservation(reservation_id=str(uuid.uuid4()), party_size=-1), update_mask=mask
            )
        )
    )
    assert set(failure.violations) == {"update_mask", "reservation.party_size"}
    failure = await fails(
        reservations_stub.TransitionReservationStatus(
            pb.TransitionReservationStatusRequest(reservation_id=str(uuid.uuid4()))
        )
    )
    assert "status" in failure.violations
    failure = await fails(
        reservations_stub.AddParticipant(
            pb.AddParticipantRequest(reservation_id="1", participant=pb.Participant(role="pilot"))
        )
    )
    assert set(failure.violations) == {"reservation_id", "participant.guest_id", "participant.role"}


async def test_unknown_ids_are_not_found(reservations_stub):
    unknown = str(uuid.uuid4())
    calls = [
        reservations_stub.GetReservation(pb.GetReservationRequest(reservation_id=unknown)),
        reservations_stub.GetReservation(pb.GetReservationRequest(confirmation_code="ABCDEFGHJKMN")),
        reservations_stub.CancelReservation(pb.CancelReservationRequest(reservation_id=unknown)),
        reservations_stub.ListParticipants(pb.ListParticipantsRequest(reservation_id=unknown)),
        reservations_stub.TransitionReservationStatus(
            pb.TransitionReservationStatusRequest(reservation_id=unknown, status=pb.RESERVATION_STATUS_CONFIRMED)
        ),
    ]
    for call in calls:
        failure = await fails(call)
        assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "RESERVATION_NOT_FOUND")


async def test_status_machine_history_and_stale_revision(guests_stub, catalog_stub, reservations_stub, reservations_db):
    r, _ = await booked(guests_stub, catalog_stub, reservations_stub)
    move = lambda status, rev=0: reservations_stub.TransitionReservationStatus(
        pb.TransitionReservationStatusRequest(
            reservation_id=r.reservation_id,
            status=status,
            changed_by="desk-7",
            reason=f"to {status}",
            expected_revision=rev,
        )
    )
    failure = await fails(move(pb.RESERVATION_STATUS_COMPLETED))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_STATUS_TRANSITION")
    confirmed = (await move(pb.RESERVATION_STATUS_CONFIRMED, rev=1)).reservation
    assert confirmed.revision == 2
    failure = await fails(move(pb.RESERVATION_STATUS_CHECKED_IN, rev=1))
    assert (failure.code, failure.reason, failure.metadata) == (
        grpc.StatusCode.ABORTED,
        "REVISION_MISMATCH",
        {"current_revision": "2"},
    )
    await move(pb.RESERVATION_STATUS_CHECKED_IN, rev=2)
    async with reservations_db.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT old_status, new_status, changed_by, reason FROM reservations.status_history WHERE "
                    "reservation_id = :id ORDER BY changed_at"
                ),
                {"id": r.reservation_id},
            )
        ).all()
    assert [tuple(x) for x in rows] == [
        (None, "pending", "system", "created"),
        ("pending", "confirmed", "desk-7", "to 2"),
        ("confirmed", "checked_in", "desk-7", "to 3"),
    ]


async def test_cancel_releases_seats_once(guests_stub, catalog_stub, reservations_stub):
    r, _request = await booked(guests_stub, catalog_stub, reservations_stub, party_size=4, capacity=10)
    cancel = pb.CancelReservationRequest(reservation_id=r.reservation_id, reason="changed plans", cancelled_by="guest")
    first = (await reservations_stub.CancelReservation(cancel)).reservation
    second = (await reservations_stub.CancelReservation(cancel)).reservation
    assert first.status == second.status == pb.RESERVATION_STATUS_CANCELLED and first.revision == second.revision == 2
    day = future_day()
    assert await seats_available(catalog_stub, r.trip_id, day) == 10
    failure = await fails(
        reservations_stub.AddParticipant(
            pb.AddParticipantRequest(
                reservation_id=r.reservation_id, participant=pb.Participant(guest_id=await new_guest(guests_stub))
            )
        )
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "RESERVATION_CLOSED")


async def test_racing_status_changes_each_take_effect_once(
    guests_stub, catalog_stub, reservations_stub, reservations_db
):
    r, _ = await booked(guests_stub, catalog_stub, reservations_stub, party_size=4, capacity=10)
    cancel = pb.CancelReservationRequest(reservation_id=r.reservation_id, reason="storm", cancelled_by="guest")
    confirm = pb.TransitionReservationStatusRequest(
        reservation_id=r.reservation_id, status=pb.RESERVATION_STATUS_CONFIRMED, changed_by="desk"
    )
    answers = await asyncio.gather(
        *(reservations_stub.CancelReservation(cancel) for _ in range(8)),
        *(reservations_stub.TransitionReservationStatus(confirm) for _ in range(4)),
        return_exceptions=True,
    )
    cancelled = [a.reservation for a in answers[:8] if not isinstance(a, Exception)]
    assert len(cancelled) == 8 and {c.status for c in cancelled} == {
        pb.RESERVATION_STATUS_CANCELLED
    }  # idempotent, whoever came first
    assert all(
        isinstance(a, grpc.aio.AioRpcError) or a.reservation.status == pb.RESERVATION_STATUS_CONFIRMED
        for a in answers[8:]
    )
    async with reservations_db.connect() as conn:
        history = (
            await conn.execute(
                sa.text(
                    "SELECT old_status, new_status FROM reservations.status_history WHERE reservation_id = :id ORDER "
                    "BY changed_at"
                ),
                {"id": r.reservation_id},
            )
        ).all()
    steps = [tuple(h) for h in history]
    assert (
        steps[0] == (None, "pending")
        and steps[-1][1] == "cancelled"
        and len([s for s in steps if s[1] == "cancelled"]) == 1
    )
    assert all(
        previous[1] == following[0] for previous, following in itertools.pairwise(steps)
    )  # one chain: nothing applied twice
    assert (
        await reservations_stub.GetReservation(pb.GetReservationRequest(reservation_id=r.reservation_id))
    ).reservation.revision == len(steps)
    assert await seats_available(catalog_stub, r.trip_id, future_day()) == 10


async def test_update_party_size_and_date_rehold_seats(guests_stub, catalog_stub, reservations_stub):
    r, _ = await booked(guests_stub, catalog_stub, reservations_stub, party_size=2, capacity=5)
    day = future_day()
    mask = field_mask_pb2.FieldMask(paths=["party_size"])
    bigger = (
        await reservations_stub.UpdateReservation(
            pb.UpdateReservationRequest(
                reservation=pb.Reservation(reservation_id=r.reservation_id, party_size=4),
                update_mask=mask,
                expected_revision=1,
            )
        )
    ).reservation
    assert (bigger.party_size, bigger.total_amount.units, bigger.revision) == (4, 599, 2)
    assert await seats_available(catalog_stub, r.trip_id, day) == 1
    failure = await fails(
        reservations_stub.UpdateReservation(
            pb.UpdateReservationRequest(
                reservation=pb.Reservation(reservation_id=r.reservation_id, party_size=6), update_mask=mask
            )
        )
    )
    assert failure.reason == "SOLD_OUT"
    assert await seats_available(catalog_stub, r.trip_id, day) == 1
    failure = await fails(
        reservations_stub.UpdateReservation(
            pb.UpdateReservationRequest(
                reservation=pb.Reservation(reservation_id=r.reservation_id, party_size=3),
                update_mask=mask,
                expected_revision=1,
            )
        )
    )
    assert failure.code == grpc.StatusCode.ABORTED


async def test_participants_are_bounded_by_party_size(guests_stub, catalog_stub, reservations_stub):
    r, _ = await booked(guests_stub, catalog_stub, reservations_stub, party_size=2)
    add = lambda guest_id: reservations_stub.AddParticipant(
        pb.AddParticipantRequest(
            reservation_id=r.reservation_id, participant=pb.Participant(guest_id=guest_id, waiver_signed=True)
        )
    )
    friend = await new_guest(guests_stub)
    added = (await add(friend)).participant
    assert (added.role, added.waiver_signed) == ("guest", True)
    assert (await fails(add(friend))).code == grpc.StatusCode.ALREADY_EXISTS
    failure = await fails(add(await new_guest(guests_stub)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PARTY_FULL")
    failure = await fails(add(str(uuid.uuid4())))
    assert failure.reason == "GUEST_NOT_ELIGIBLE"


async def test_search_filters_and_pages(guests_stub, catalog_stub, reservations_stub):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=30, day=future_day(40))
    made = [
        (
            await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 1))
        ).reservation.reservation_id
        for _ in range(5)
    ]
    seen, token = [], ""
    while True:
        page = await reservations_stub.SearchReservations(
            pb.SearchReservationsRequest(
                trip_id=trip_id, page_size=2, page_token=token, status=pb.RESERVATION_STATUS_PENDING
            )
        )
        seen += [x.reservation_id for x in page.reservations]
        if not (token := page.next_page_token):
            break
    assert seen == list(reversed(made))
    window = pb.SearchReservationsRequest(trip_id=trip_id, trip_date_from=date_to_proto(future_day(41)))
    assert not (await reservations_stub.SearchReservations(window)).reservations


async def test_client_assigned_id_is_used_and_replays_by_it(guests_stub, catalog_stub, reservations_stub):
    guest_id = await new_guest(guests_stub)
    trip_id, day = await new_departure(catalog_stub, capacity=5)
    chosen = str(uuid.uuid4())
    request = create_request(guest_id, trip_id, day, 2, reservation_id=chosen)
    first = (await reservations_stub.CreateReservation(request)).reservation
    again = (await reservations_stub.CreateReservation(request)).reservation
    assert first.reservation_id == again.reservation_id == chosen
    assert await seats_available(catalog_stub, trip_id, day) == 3
    failure = await fails(
        reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 1, reservation_id="not-a-uuid"))
    )
    assert "reservation_id" in failure.violations
