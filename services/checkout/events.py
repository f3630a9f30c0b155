"""The events checkout publishes (through its outbox)."""

from __future__ import annotations

from novatrek.checkout.v1 import events_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.checkout.domain import Checkout


def completed(c: Checkout) -> pb.CheckoutCompleted:
    return pb.CheckoutCompleted(
        checkout_id=str(c.checkout_id),
        cart_id=str(c.cart_id),
        guest_id=str(c.guest_id),
        order_id=str(c.order_id),
        total=money_to_proto(c.total, c.currency),
        occur_time=timestamp(c.updated_at),
    )


def failed(c: Checkout) -> pb.CheckoutFailed:
    return pb.CheckoutFailed(
        checkout_id=str(c.checkout_id),
        cart_id=str(c.cart_id),
        guest_id=str(c.guest_id),
        failure_reason=c.failure_reason,
        failure_message=c.failure_message,
        occur_time=timestamp(c.updated_at),
    )


def of(c: Checkout) -> pb.CheckoutCompleted | pb.CheckoutFailed:
    return completed(c) if c.order_id is not None else failed(c)
