"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.payments.v1 import events_pb2

from services.chassis.protoconv import money_to_proto, timestamp
from services.payments.domain import Payment
from services.payments.protomap import PAYMENT_STATUS_TO_PB


def processed(p: Payment) -> events_pb2.PaymentProcessed:
    return events_pb2.PaymentProcessed(
        payment_id=str(p.payment_id),
        reservation_id=str(p.request.reservation_id),
        amount=money_to_proto(p.request.amount, p.request.currency),
        status=PAYMENT_STATUS_TO_PB[p.status],
        occur_time=timestamp(p.created_at),
    )
