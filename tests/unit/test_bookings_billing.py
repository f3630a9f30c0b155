"""Slot attendees billed from the wallet after their session, PENDING_PAYMENT in and out both ways
(a wallet top-up, PayBooking by card), only one of the loop and PayBooking taking money; cancellation
under the policy with the refund to where the money came from, finished by the refund loop after an
outage."""

import uuid
from decimal import Decimal

import pytest

from services.bookings.billing import bill_due, mark_due_of_customer, mark_due_of_session, pay_booking
from services.bookings.commands import CancelBooking, PayBooking
from services.bookings.domain import BookingStatus, BookingType, PaymentMethod, PaymentStatus, RefundStatus
from services.bookings.handlers import create_booking
from services.bookings.refunds import cancel_booking, refund_pending
from services.chassis.errors import Aborted, FailedPrecondition, Unavailable
from tests.unit.bookings_store_fakes import FakeUnitOfWork, InMemoryBookings
from tests.unit.test_bookings_saga import command, funded


async def slot_attendee(svc: InMemoryBookings):
    session = svc.session()
    booked = await create_booking(command(svc, session, type=BookingType.SLOT_ATTENDEE), svc.deps)
    assert (booked.status, booked.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.UNPAID)
    assert "wallet.debit" not in svc.world.calls and [type(e).__name__ for e in svc.world.events] == [
        "BookingConfirmed"
    ]
    return booked


async def finish(svc: InMemoryBookings, session_id) -> int:
    async with FakeUnitOfWork(svc.world, svc.store) as uow:
        return await mark_due_of_session(uow, session_id)


async def top_up(svc: InMemoryBookings, amount: str) -> int:
    svc.world.wallets[svc.customer.customer_id][0] += Decimal(amount)
    async with FakeUnitOfWork(svc.world, svc.store) as uow:
        return await mark_due_of_customer(uow, svc.customer.customer_id, svc.company)


async def test_a_slot_attendee_is_billed_from_the_wallet_when_the_session_finishes():
    svc = funded(InMemoryBookings())
    booked = await slot_attendee(svc)
    assert await bill_due(svc.deps) == 0  # not due before the session finished
    assert await finish(svc, booked.session_id) == 1 and await bill_due(svc.deps) == 1
    paid = svc.world.bookings[booked.booking_id]
    assert (paid.status, paid.payment_status, paid.wallet_cash) == (BookingStatus.CONFIRMED, PaymentStatus.PAID, 30)
    assert type(svc.world.events[-1]).__name__ == "BookingPaid" and await bill_due(svc.deps) == 0


async def test_without_funds_it_goes_pending_payment_and_a_top_up_collects_it():
    svc = funded(InMemoryBookings(), cash="10")
    booked = await slot_attendee(svc)
    await finish(svc, booked.session_id)
    await bill_due(svc.deps)
    assert svc.world.bookings[booked.booking_id].status is BookingStatus.PENDING_PAYMENT
    assert await top_up(svc, "5") == 1 and await bill_due(svc.deps) == 1  # still short: stays pending
    assert svc.world.bookings[booked.booking_id].status is BookingStatus.PENDING_PAYMENT
    await top_up(svc, "20")
    await bill_due(svc.deps)
    paid = svc.world.bookings[booked.booking_id]
    assert (paid.status, paid.payment_status) == (BookingStatus.CONFIRMED, PaymentStatus.PAID)
    assert svc.wallet.balance(svc.customer.customer_id) == (Decimal(5), Decimal(0))


async def pending_payment(svc: InMemoryBookings):
    booked = await slot_attendee(svc)
    await finish(svc, booked.session_id)
    await bill_due(svc.deps)
    return booked


async def test_pay_booking_takes_a_pending_payment_booking_out_by_card_once():
    svc = funded(InMemoryBookings(), cash="0")
    booked = await pending_payment(svc)
    with pytest.raises(FailedPrecondition, match="declined"):
        await pay_booking(PayBooking(booked.booking_id, "user-1", "decline"), svc.deps)
    assert svc.world.bookings[booked.booking_id].status is BookingStatus.PENDING_PAYMENT
    paid = await pay_booking(PayBooking(booked.booking_id, "user-1", "tok_visa"), svc.deps)
    assert (paid.status, paid.payment_status, paid.payment_method) == (
        BookingStatus.CONFIRMED, PaymentStatus.PAID, PaymentMethod.CARD,
    )  # fmt: skip
    assert svc.world.auths[paid.authorization_id] == "captured"
    again = await pay_booking(PayBooking(booked.booking_id, "user-1", "tok_visa"), svc.deps)
    assert again == paid and svc.world.calls.count("cards.capture") == 1
    await top_up(svc, "100")
    assert await bill_due(svc.deps) == 0  # paid: the top-up finds nothing pending


async def test_the_billing_loop_and_pay_booking_never_both_take_money():
    svc = funded(InMemoryBookings(), cash="0")
    booked = await pending_payment(svc)
    svc.world.wallets[svc.customer.customer_id][0] = Decimal(100)
    await top_up(svc, "0")
    svc.world.failing["wallet.debit"] = Unavailable("wallet is slow")  # the loop's debit may have happened
    await bill_due(svc.deps)
    with pytest.raises(Aborted) as busy:
        await pay_booking(PayBooking(booked.booking_id, "user-1", "tok_visa"), svc.deps)
    assert busy.value.reason == "BOOKING_PAYMENT_IN_PROGRESS" and not svc.world.auths
    del svc.world.failing["wallet.debit"]
    svc.clock.advance(31)  # the loop's claim ran out: it takes the booking again, keyed, and bills it
    await bill_due(svc.deps)
    assert svc.world.bookings[booked.booking_id].payment_status is PaymentStatus.PAID
    assert len(svc.world.debits) == 1 and not svc.world.auths


@pytest.mark.parametrize("method", [PaymentMethod.PASS, PaymentMethod.WALLET, PaymentMethod.CARD])
async def test_a_cancellation_refunds_to_where_the_money_came_from(method):
    svc = funded(InMemoryBookings(), cash="100", bonus="10")
    booked = await create_booking(command(svc, svc.session(), method), svc.deps)
    done = await cancel_booking(CancelBooking(booked.booking_id, "user-1", "plans changed"), svc.deps)
    assert (done.status, done.payment_status, done.refund.status) == (
        BookingStatus.CANCELLED, PaymentStatus.REFUNDED, RefundStatus.COMPLETED,
    )  # fmt: skip
    assert not svc.world.seats and not svc.world.usages and not svc.cards.holding()
    assert svc.wallet.balance(svc.customer.customer_id) == (Decimal(100), Decimal(10))
    assert done.refund.entitlement_restored is (method is PaymentMethod.PASS)
    if method is PaymentMethod.WALLET:
        assert (done.refund.wallet_cash, done.refund.wallet_bonus) == (Decimal(20), Decimal(10))
    assert type(svc.world.events[-1]).__name__ == "BookingCancelled"
    again = await cancel_booking(CancelBooking(booked.booking_id, "user-1", ""), svc.deps)
    assert again.refund.status is RefundStatus.COMPLETED and svc.world.calls.count("catalog.release") == 1


async def test_the_cancellation_window_closes_before_the_session():
    svc = funded(InMemoryBookings())
    booked = await create_booking(command(svc, svc.session(starts_in_h=1)), svc.deps)
    with pytest.raises(FailedPrecondition) as closed:
        await cancel_booking(CancelBooking(booked.booking_id, "", ""), svc.deps)
    assert closed.value.reason == "CANCELLATION_WINDOW_CLOSED"
    assert svc.world.bookings[booked.booking_id].status is BookingStatus.CONFIRMED


async def test_others_bookings_are_not_found_and_cannot_be_cancelled():
    svc = funded(InMemoryBookings())
    booked = await create_booking(command(svc, svc.session()), svc.deps)
    with pytest.raises(Exception) as hidden:
        await cancel_booking(CancelBooking(booked.booking_id, "someone-else", ""), svc.deps)
    assert getattr(hidden.value, "reason", "") == "BOOKING_NOT_FOUND"


async def test_a_refund_an_outage_interrupted_is_finished_by_the_refund_loop():
    svc = funded(InMemoryBookings())
    booked = await create_booking(command(svc, svc.session()), svc.deps)
    svc.world.failing["wallet.refund"] = Unavailable("wallet is down")
    done = await cancel_booking(CancelBooking(booked.booking_id, "", ""), svc.deps)
    assert (done.status, done.refund.status) == (BookingStatus.CANCELLED, RefundStatus.REQUESTED)
    assert await refund_pending(svc.deps) == 0  # the inline attempt still owns it
    del svc.world.failing["wallet.refund"]
    svc.clock.advance(31)
    assert await refund_pending(svc.deps) == 1
    refunded = svc.world.bookings[booked.booking_id]
    assert (refunded.refund.status, refunded.payment_status) == (RefundStatus.COMPLETED, PaymentStatus.REFUNDED)
    assert svc.wallet.balance(svc.customer.customer_id) == (Decimal(100), Decimal(0))
    svc.clock.advance(31)
    assert await refund_pending(svc.deps) == 0


async def test_an_unbilled_slot_attendee_cancelled_leaves_a_tombstone_for_its_debit():
    svc = funded(InMemoryBookings())
    booked = await slot_attendee(svc)
    done = await cancel_booking(CancelBooking(booked.booking_id, "", ""), svc.deps)
    assert (done.payment_status, done.refund.amount) == (PaymentStatus.UNPAID, 0)
    assert booked.wallet_debit_id in svc.world.refunded and uuid.UUID(int=0) not in svc.world.refunded
