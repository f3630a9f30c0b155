"""The second ring end to end: a session booking paid from the wallet earns loyalty points for the
customer's guest profile (bookings' BookingPaid over NATS into the real loyalty), and its
cancellation takes them back; a customer with no guest profile earns nothing."""

import uuid

from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.loyalty.v1 import loyalty_pb2

from clients.loyalty import LoyaltyClient
from tests.helpers import eventually
from tests.integration.booking import new_guest
from tests.integration.booking_fixtures import booking, bookings_mesh  # noqa: F401


async def points(loyalty: LoyaltyClient, member_id: str) -> int:
    return int((await loyalty.get_loyalty_account(member_id)).balance)


async def test_a_paid_booking_earns_for_its_guest_and_its_cancellation_takes_it_back(
    bookings_mesh, loyalty_service, guests_stub
):
    m, loyalty = bookings_mesh, LoyaltyClient(loyalty_service.address, 10.0)
    company = (await m.businesses.create_company(str(uuid.uuid4()), "Harbour kayaks", 2, "EUR")).company_id
    await loyalty.set_earn_rule(company, loyalty_pb2.EARN_SOURCE_SESSION, "2")  # 2 points per euro
    guest = await new_guest(guests_stub)
    linked = await m.businesses.register_customer(company, f"{guest}@example.com", "Ada", guest_id=guest)
    unlinked = await m.businesses.register_customer(company, f"{uuid.uuid4()}@example.com", "Bo")
    session = await m.session(company)  # 35 EUR a seat
    for customer in (linked, unlinked):
        await m.top_up(company, customer.customer_id, "100")

    paid = booking(company, session, linked, method=pb.PAYMENT_METHOD_WALLET)
    paid.user_id, paid.customer_id = "", linked.customer_id
    done = (await m.bookings.CreateBooking(paid)).booking
    assert done.payment_status == pb.PAYMENT_STATUS_PAID
    assert await eventually(lambda: _at(loyalty, guest, 70))  # 35 EUR x 2, once

    other = booking(company, session, unlinked, method=pb.PAYMENT_METHOD_WALLET)
    other.user_id, other.customer_id = "", unlinked.customer_id
    assert (await m.bookings.CreateBooking(other)).booking.payment_status == pb.PAYMENT_STATUS_PAID

    await m.bookings.CancelBooking(pb.CancelBookingRequest(booking_id=done.booking_id))
    assert await eventually(lambda: _at(loyalty, guest, 0))
    history = await loyalty.list_point_transactions(guest)
    assert sorted(t.points for t in history.transactions) == [-70, 70], history
    await loyalty.close()


async def _at(loyalty: LoyaltyClient, member_id: str, expected: int) -> bool:
    return await points(loyalty, member_id) == expected
