"""The events bookings publishes (through its outbox)."""

from __future__ import annotations

from novatrek.bookings.v1 import events_pb2 as pb

from services.bookings.domain import Booking
from services.bookings.protomap import METHOD_TO_PB, booking_to_pb
from services.chassis.protoconv import money_to_proto, timestamp


def confirmed(b: Booking) -> pb.BookingConfirmed:
    return pb.BookingConfirmed(booking=booking_to_pb(b), occur_time=timestamp(b.updated_at))


def paid(b: Booking) -> pb.BookingPaid:
    return pb.BookingPaid(
        booking_id=str(b.booking_id),
        company_id=str(b.company_id),
        customer_id=str(b.customer_id),
        activity_id=str(b.activity_id),
        payment_method=METHOD_TO_PB[b.payment_method],
        amount=money_to_proto(b.paid_amount, b.currency),
        occur_time=timestamp(b.updated_at),
    )


def cancelled(b: Booking) -> pb.BookingCancelled:
    return pb.BookingCancelled(booking=booking_to_pb(b), occur_time=timestamp(b.updated_at))
