"""Bookings <-> protobuf: the answer's Booking and the enum maps, shared by the servicer and events."""

from __future__ import annotations

from decimal import Decimal

from novatrek.bookings.v1 import bookings_pb2 as pb

from services.bookings.domain import (
    Booking,
    BookingExtra,
    BookingStatus,
    BookingType,
    PaymentMethod,
    PaymentStatus,
    RefundRequest,
    RefundStatus,
)
from services.chassis.protoconv import money_to_proto, timestamp

TYPE_TO_PB = {BookingType.STANDARD: pb.BOOKING_TYPE_STANDARD, BookingType.SLOT_ATTENDEE: pb.BOOKING_TYPE_SLOT_ATTENDEE}
TYPE_FROM_PB = {v: k for k, v in TYPE_TO_PB.items()}
METHOD_TO_PB = {
    PaymentMethod.PASS: pb.PAYMENT_METHOD_PASS,
    PaymentMethod.WALLET: pb.PAYMENT_METHOD_WALLET,
    PaymentMethod.CARD: pb.PAYMENT_METHOD_CARD,
}
METHOD_FROM_PB = {v: k for k, v in METHOD_TO_PB.items()}
STATUS_TO_PB = {
    BookingStatus.PENDING: pb.BOOKING_STATUS_PENDING,
    BookingStatus.CONFIRMED: pb.BOOKING_STATUS_CONFIRMED,
    BookingStatus.PENDING_PAYMENT: pb.BOOKING_STATUS_PENDING_PAYMENT,
    BookingStatus.CANCELLED: pb.BOOKING_STATUS_CANCELLED,
    BookingStatus.FAILED: pb.BOOKING_STATUS_FAILED,
}
PAYMENT_STATUS_TO_PB = {
    PaymentStatus.UNPAID: pb.PAYMENT_STATUS_UNPAID,
    PaymentStatus.PAID: pb.PAYMENT_STATUS_PAID,
    PaymentStatus.REFUNDED: pb.PAYMENT_STATUS_REFUNDED,
}
REFUND_STATUS_TO_PB = {
    RefundStatus.REQUESTED: pb.REFUND_STATUS_REQUESTED,
    RefundStatus.COMPLETED: pb.REFUND_STATUS_COMPLETED,
}


def extra_to_pb(e: BookingExtra, currency: str) -> pb.BookingExtra:
    return pb.BookingExtra(
        extra_id=str(e.extra_id), name=e.name, unit_price=money_to_proto(e.unit_price, currency), quantity=e.quantity
    )


def refund_to_pb(r: RefundRequest, currency: str) -> pb.RefundRequest:
    return pb.RefundRequest(
        refund_request_id=str(r.refund_request_id),
        status=REFUND_STATUS_TO_PB[r.status],
        amount=money_to_proto(r.amount, currency),
        wallet_cash=money_to_proto(r.wallet_cash, currency),
        wallet_bonus=money_to_proto(r.wallet_bonus, currency),
        entitlement_restored=r.entitlement_restored,
        reason=r.reason,
        create_time=timestamp(r.created_at),
        complete_time=timestamp(r.completed_at) if r.completed_at else None,
    )


def booking_to_pb(b: Booking) -> pb.Booking:
    c = b.currency
    return pb.Booking(
        booking_id=str(b.booking_id),
        session_id=str(b.session_id),
        company_id=str(b.company_id),
        activity_id=str(b.activity_id),
        customer_id=str(b.customer_id),
        user_id=b.user_id,
        type=TYPE_TO_PB[b.type],
        status=STATUS_TO_PB[b.status],
        payment_method=METHOD_TO_PB[b.payment_method],
        payment_status=PAYMENT_STATUS_TO_PB[b.payment_status],
        session_start_time=timestamp(b.session_start),
        session_end_time=timestamp(b.session_end),
        price=money_to_proto(b.price, c),
        extras=[extra_to_pb(e, c) for e in b.extras],
        total=money_to_proto(b.total, c),
        customer_entitlement_id=str(b.entitlement_id) if b.entitlement_id else "",
        wallet_debited=b.wallet_cash > 0 or b.wallet_bonus > 0,
        bonus_debited=b.wallet_bonus > Decimal(0),
        wallet_cash_debited=money_to_proto(b.wallet_cash, c),
        wallet_bonus_debited=money_to_proto(b.wallet_bonus, c),
        authorization_id=b.authorization_id,
        refund_request=refund_to_pb(b.refund, c) if b.refund else None,
        failure_reason=b.failure_reason,
        create_time=timestamp(b.created_at),
        update_time=timestamp(b.updated_at),
    )
