"""Payment domain objects -> protobuf messages (used by the servicer and the events)."""

from __future__ import annotations

from novatrek.payments.v1 import payments_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.payments.domain import (
    Authorization,
    AuthorizationStatus,
    CommissionPayout,
    Payment,
    PaymentStatus,
    PayoutStatus,
)

PAYMENT_STATUS_TO_PB = {s: pb.PaymentStatus.Value(f"PAYMENT_STATUS_{s.name}") for s in PaymentStatus}
PAYOUT_STATUS_TO_PB = {s: pb.PayoutStatus.Value(f"PAYOUT_STATUS_{s.name}") for s in PayoutStatus}
PAYOUT_STATUS_FROM_PB = {v: k for k, v in PAYOUT_STATUS_TO_PB.items()}
AUTHORIZATION_STATUS_TO_PB = {
    s: pb.AuthorizationStatus.Value(f"AUTHORIZATION_STATUS_{s.name}") for s in AuthorizationStatus
}


def payment_to_pb(p: Payment) -> pb.Payment:
    r = p.request
    return pb.Payment(
        payment_id=str(p.payment_id),
        reservation_id=str(r.reservation_id),
        amount=money_to_proto(r.amount, r.currency),
        method_reference=r.method_reference,
        status=PAYMENT_STATUS_TO_PB[p.status],
        processor_reference=p.processor_reference,
        decline_reason=p.decline_reason,
        create_time=timestamp(p.created_at),
    )


def payout_to_pb(p: CommissionPayout) -> pb.CommissionPayout:
    c = p.claim
    if c is None:  # callers never show one: a tombstone is no payout
        raise ValueError(f"payout {p.payout_id} is a tombstone")
    return pb.CommissionPayout(
        payout_id=str(p.payout_id),
        commission_record_id=str(p.commission_record_id),
        partner_id=str(c.partner_id),
        partner_booking_id=str(c.partner_booking_id),
        reservation_id=str(c.reservation_id),
        amount=money_to_proto(c.amount, c.currency),
        status=PAYOUT_STATUS_TO_PB[p.status],
        reversal_reason=p.reversal_reason,
        create_time=timestamp(p.created_at),
        reverse_time=timestamp(p.reversed_at) if p.reversed_at else None,
    )


def authorization_to_pb(a: Authorization) -> pb.Authorization:
    r = a.request
    return pb.Authorization(
        authorization_id=str(a.authorization_id),
        checkout_id=str(r.checkout_id),
        guest_id=str(r.guest_id),
        amount=money_to_proto(r.amount, r.currency),
        method_reference=r.method_reference,
        status=AUTHORIZATION_STATUS_TO_PB[a.status],
        processor_reference=a.processor_reference,
        decline_reason=a.decline_reason,
        create_time=timestamp(a.created_at),
        update_time=timestamp(a.updated_at),
    )
