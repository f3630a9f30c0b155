"""The session bookings' two surfaces through the real gateway in front of the real bookings (and its
real peers): the customers' client surface with a bearer token and the public guest path on the
public listener, and the business session view on the internal one (gRPC and REST)."""

import uuid

import grpc
import pytest
from novatrek.bookings.v1 import bookings_pb2 as pb

from services.gateway.config import BOOKINGS, SESSION_VIEWS
from tests.helpers import fails
from tests.integration.booking_fixtures import booking, bookings_mesh  # noqa: F401
from tests.integration.client_fixtures import CLIENT_KEY, as_customer
from tests.integration.gateway_fixtures import failure, gateway_settings, live_gateway, ok

WALLET, CARD = pb.PAYMENT_METHOD_WALLET, pb.PAYMENT_METHOD_CARD


@pytest.fixture(scope="module")
async def surfaces(bookings_mesh):
    upstreams = {BOOKINGS: bookings_mesh.address, SESSION_VIEWS: bookings_mesh.address}
    settings = gateway_settings(upstreams, public_services=[BOOKINGS], client_token_key=CLIENT_KEY)
    async with live_gateway(settings) as live:
        yield bookings_mesh, live


async def test_the_session_view_shows_the_bookings_that_hold_or_held_a_seat(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company, capacity=3)
    await m.top_up(company, customer.customer_id, "100")
    kept = (await m.bookings.CreateBooking(booking(company, session, customer, method=WALLET))).booking
    gone = (await m.bookings.CreateBooking(booking(company, session, customer, method=WALLET))).booking
    await m.bookings.CancelBooking(pb.CancelBookingRequest(booking_id=gone.booking_id))
    declined = booking(company, session, customer, method=CARD, method_reference="decline")
    assert (await m.bookings.CreateBooking(declined)).booking.status == pb.BOOKING_STATUS_FAILED

    view = (await m.views.GetSessionView(pb.GetSessionViewRequest(session_id=session.session_id))).view
    assert [b.booking_id for b in view.bookings] == [kept.booking_id, gone.booking_id]  # oldest first, no FAILED
    assert view.active_bookings_count == 1
    assert (view.session.session_id, view.session.capacity, view.session.booked, view.session.available) == (
        session.session_id, 3, 1, 2,
    )  # fmt: skip
    mine = pb.GetSessionViewRequest(session_id=session.session_id, company_id=company)
    assert (await m.views.GetSessionView(mine)).view.active_bookings_count == 1
    theirs = pb.GetSessionViewRequest(session_id=session.session_id, company_id=str(uuid.uuid4()))
    err = await fails(m.views.GetSessionView(theirs))
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "SESSION_NOT_FOUND")


async def test_a_guest_books_by_card_without_a_token_and_the_customer_lists_their_own(surfaces):
    m, live = surfaces
    company, customer = await m.customer()
    session = await m.session(company)
    guest = {"bookingId": str(uuid.uuid4()), "email": "grace@example.com", "fullName": "Grace Hopper"}
    path = f"/api/client/guest/companies/{company}/sessions/{session.session_id}/bookings"
    made = ok(await live.public.post(path, json={**guest, "methodReference": "tok_visa"}))["booking"]
    assert (made["status"], made["paymentMethod"], made.get("userId", "")) == (
        "BOOKING_STATUS_CONFIRMED", "PAYMENT_METHOD_CARD", "",
    )  # fmt: skip

    await m.top_up(company, customer.customer_id, "50")
    body = {"bookingId": str(uuid.uuid4()), "companyId": company, "sessionId": session.session_id}
    headers = as_customer(customer.user_id)
    body["payment"] = {"method": "PAYMENT_METHOD_WALLET"}
    mine = ok(await live.public.post("/api/client/bookings", json=body, headers=headers))["booking"]
    listed = ok(await live.public.get("/api/client/my-bookings", headers=headers))["bookings"]
    assert [b["bookingId"] for b in listed] == [mine["bookingId"]]  # the guest's booking is not theirs
    stranger = as_customer(str(uuid.uuid4()))
    reason, _, _ = failure(await live.public.get(f"/api/client/bookings/{mine['bookingId']}", headers=stranger), 404)
    assert reason == "BOOKING_NOT_FOUND"
    reason, _, _ = failure(await live.public.get("/api/client/my-bookings"), 401)
    assert reason == "TOKEN_MISSING"

    view = ok(await live.internal.get(f"/api/business/sessions/{session.session_id}"))["view"]
    assert view["activeBookingsCount"] == 2 and view["session"]["booked"] == 2
    cancel = f"/api/client/bookings/{mine['bookingId']}:cancel"
    assert (
        ok(await live.public.post(cancel, json={}, headers=headers))["booking"]["status"] == "BOOKING_STATUS_CANCELLED"
    )
    view = ok(await live.internal.get(f"/api/business/sessions/{session.session_id}"))["view"]
    assert view["activeBookingsCount"] == 1
