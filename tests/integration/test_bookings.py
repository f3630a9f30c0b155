"""Bookings through the real trip-catalog, businesses, passes and payments servers (PostgreSQL, NATS):
PASS and CARD end to end, failures compensated (no seat held, no session consumed, no card hold
left, no wallet debit left), an overbooking storm, refunds per mode, idempotent replay, a slot attendee
billed when the real catalog's SessionFinished arrives, PENDING_PAYMENT left by a real top-up and by
PayBooking."""

import asyncio

from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.payments.v1 import payments_pb2

from tests.helpers import eventually, fails
from tests.integration.booking_fixtures import booking, bookings_mesh  # noqa: F401
from tests.integration.test_catalog_sessions import move

CONFIRMED, FAILED = pb.BOOKING_STATUS_CONFIRMED, pb.BOOKING_STATUS_FAILED
PASS, WALLET, CARD = pb.PAYMENT_METHOD_PASS, pb.PAYMENT_METHOD_WALLET, pb.PAYMENT_METHOD_CARD


async def test_a_pass_booking_consumes_one_session_and_its_cancellation_gives_it_back(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    pass_ = await m.entitlement(company, customer.customer_id)
    request = booking(company, session, customer, method=PASS, entitlement_id=pass_.entitlement_id)
    done = (await m.bookings.CreateBooking(request)).booking
    assert (done.status, done.payment_status, done.customer_entitlement_id) == (
        CONFIRMED, pb.PAYMENT_STATUS_PAID, pass_.entitlement_id,
    )  # fmt: skip
    assert await m.booked(session.session_id) == 1 and await m.remaining(pass_.entitlement_id) == 0
    assert (await m.bookings.CreateBooking(request)).booking == done  # replayed: the same booking
    cancel = pb.CancelBookingRequest(booking_id=done.booking_id, user_id=customer.user_id, reason="ill")
    cancelled = (await m.bookings.CancelBooking(cancel)).booking
    assert cancelled.status == pb.BOOKING_STATUS_CANCELLED and cancelled.refund_request.entitlement_restored
    assert cancelled.refund_request.status == pb.REFUND_STATUS_COMPLETED
    assert await m.booked(session.session_id) == 0 and await m.remaining(pass_.entitlement_id) == 1


async def test_an_exhausted_pass_fails_the_booking_and_frees_the_seat(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    pass_ = await m.entitlement(company, customer.customer_id)
    first = booking(company, session, customer, method=PASS, entitlement_id=pass_.entitlement_id)
    await m.bookings.CreateBooking(first)
    second = booking(company, session, customer, method=PASS, entitlement_id=pass_.entitlement_id)
    failed = (await m.bookings.CreateBooking(second)).booking
    assert (failed.status, failed.failure_reason) == (FAILED, "ENTITLEMENT_EXHAUSTED")
    assert await m.booked(session.session_id) == 1 and await m.remaining(pass_.entitlement_id) == 0


async def test_a_card_booking_is_captured_and_refunded_on_cancellation(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    done = (
        await m.bookings.CreateBooking(booking(company, session, customer, method=CARD, method_reference="tok_visa"))
    ).booking
    assert (done.status, done.total.units) == (CONFIRMED, 35)
    auth = await m.payments.get_authorization(done.authorization_id)
    assert auth.status == payments_pb2.AUTHORIZATION_STATUS_CAPTURED
    cancel = pb.CancelBookingRequest(booking_id=done.booking_id, user_id=customer.user_id)
    cancelled = (await m.bookings.CancelBooking(cancel)).booking
    assert (cancelled.payment_status, cancelled.refund_request.amount.units) == (pb.PAYMENT_STATUS_REFUNDED, 35)
    auth = await m.payments.get_authorization(done.authorization_id)
    assert auth.status == payments_pb2.AUTHORIZATION_STATUS_REFUNDED and await m.booked(session.session_id) == 0


async def test_a_declined_card_fails_the_booking_with_no_seat_held(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    request = booking(company, session, customer, method=CARD, method_reference="decline")
    failed = (await m.bookings.CreateBooking(request)).booking
    assert (failed.status, failed.failure_reason) == (FAILED, "PAYMENT_DECLINED")
    assert await m.booked(session.session_id) == 0


async def test_an_overbooking_storm_confirms_exactly_the_seats_there_are(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company, capacity=5)
    requests = [booking(company, session, customer, method=CARD, method_reference="tok_visa") for _ in range(30)]
    answers = await asyncio.gather(*(m.bookings.CreateBooking(r) for r in requests))
    statuses = [(a.booking.status, a.booking.failure_reason) for a in answers]
    assert statuses.count((CONFIRMED, "")) == 5 and statuses.count((FAILED, "SOLD_OUT")) == 25
    assert await m.booked(session.session_id) == 5


async def test_others_bookings_are_not_found_and_a_reused_id_is_refused(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    request = booking(company, session, customer, method=CARD, method_reference="tok_visa")
    done = (await m.bookings.CreateBooking(request)).booking
    hidden = await fails(m.bookings.GetBooking(pb.GetBookingRequest(booking_id=done.booking_id, user_id="intruder")))
    assert hidden.reason == "BOOKING_NOT_FOUND"
    mine = await m.bookings.ListMyBookings(pb.ListMyBookingsRequest(user_id=customer.user_id))
    assert [b.booking_id for b in mine.bookings] == [done.booking_id]
    request.payment.method_reference = "tok_other"
    assert (await fails(m.bookings.CreateBooking(request))).reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_wallet_booking_spends_bonus_first_and_its_cancellation_gives_both_back(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    await m.top_up(company, customer.customer_id, "100", "10")
    done = (await m.bookings.CreateBooking(booking(company, session, customer, method=WALLET))).booking
    assert (done.wallet_cash_debited.units, done.wallet_bonus_debited.units, done.bonus_debited) == (25, 10, True)
    assert await m.balance(company, customer.customer_id) == (75, 0)
    cancel = pb.CancelBookingRequest(booking_id=done.booking_id, user_id=customer.user_id)
    refund = (await m.bookings.CancelBooking(cancel)).booking.refund_request
    assert (refund.wallet_cash.units, refund.wallet_bonus.units, refund.status) == (25, 10, pb.REFUND_STATUS_COMPLETED)
    assert await m.balance(company, customer.customer_id) == (100, 10)


async def test_a_wallet_short_of_funds_fails_the_booking_with_nothing_taken(bookings_mesh):
    m = bookings_mesh
    company, customer = await m.customer()
    session = await m.session(company)
    await m.top_up(company, customer.customer_id, "20")
    failed = (await m.bookings.CreateBooking(booking(company, session, customer, method=WALLET))).booking
    assert (failed.status, failed.failure_reason) == (FAILED, "INSUFFICIENT_FUNDS")
    assert await m.booked(session.session_id) == 0 and await m.balance(company, customer.customer_id) == (20, 0)


async def slot_attendee_finished(m, cash: str):
    """A slot attendee booked with `cash` in the wallet, its session then finished by the real catalog."""
    company, customer = await m.customer()
    session = await m.session(company)
    if cash != "0":
        await m.top_up(company, customer.customer_id, cash)
    request = booking(company, session, customer, method=WALLET)
    request.type = pb.BOOKING_TYPE_SLOT_ATTENDEE
    done = (await m.bookings.CreateBooking(request)).booking
    assert (done.status, done.payment_status) == (CONFIRMED, pb.PAYMENT_STATUS_UNPAID)
    await move(m.catalog_service.database_url, [session.session_id], -3, -1)  # the finish job publishes
    return company, customer, done


async def status_of(m, booking_id: str, wanted: tuple) -> bool:
    found = (await m.bookings.GetBooking(pb.GetBookingRequest(booking_id=booking_id))).booking
    return (found.status, found.payment_status) == wanted


async def test_a_slot_attendee_is_billed_when_the_real_catalog_finishes_its_session(bookings_mesh):
    m = bookings_mesh
    company, customer, done = await slot_attendee_finished(m, "50")
    await eventually(lambda: status_of(m, done.booking_id, (CONFIRMED, pb.PAYMENT_STATUS_PAID)), timeout_s=30)
    assert await m.balance(company, customer.customer_id) == (15, 0)


async def test_pending_payment_is_left_by_a_top_up_or_by_paying_by_card(bookings_mesh):
    m = bookings_mesh
    company, customer, done = await slot_attendee_finished(m, "10")
    pending = (pb.BOOKING_STATUS_PENDING_PAYMENT, pb.PAYMENT_STATUS_UNPAID)
    await eventually(lambda: status_of(m, done.booking_id, pending), timeout_s=30)
    await m.top_up(company, customer.customer_id, "30")  # WalletToppedUp: due again, billed
    await eventually(lambda: status_of(m, done.booking_id, (CONFIRMED, pb.PAYMENT_STATUS_PAID)))
    assert await m.balance(company, customer.customer_id) == (5, 0)

    company, customer, other = await slot_attendee_finished(m, "0")
    await eventually(lambda: status_of(m, other.booking_id, pending), timeout_s=30)
    pay = pb.PayBookingRequest(booking_id=other.booking_id, user_id=customer.user_id, method_reference="tok_visa")
    paid = (await m.bookings.PayBooking(pay)).booking
    assert (paid.status, paid.payment_status, paid.payment_method) == (CONFIRMED, pb.PAYMENT_STATUS_PAID, CARD)
    assert (await m.bookings.PayBooking(pay)).booking == paid
    captured = await m.payments.get_authorization(paid.authorization_id)
    assert captured.status == payments_pb2.AUTHORIZATION_STATUS_CAPTURED
