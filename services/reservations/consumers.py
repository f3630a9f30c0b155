"""Events this context consumes."""

from __future__ import annotations

import logging
import uuid

from novatrek.payments.v1 import events_pb2 as payment_events
from novatrek.payments.v1 import payments_pb2

from services.chassis.consumer import Subscription
from services.chassis.protoconv import utcnow
from services.reservations.commands import TransitionStatus
from services.reservations.domain import Status
from services.reservations.handlers import transition_in

log = logging.getLogger("novatrek.reservations.consumers")


async def on_payment_processed(event: payment_events.PaymentProcessed, uow, headers: dict) -> None:
    """A pending reservation whose payment succeeded is confirmed; anything else is noted only."""
    if event.status != payments_pb2.PAYMENT_STATUS_SUCCEEDED:
        return
    reservation = await uow.reservations.get(uuid.UUID(event.reservation_id), for_update=True)
    if reservation is None or reservation.status is not Status.PENDING:
        log.info("payment for a reservation that is not pending", extra={"reservation_id": event.reservation_id})
        return
    cmd = TransitionStatus(
        reservation.reservation_id, Status.CONFIRMED, "payments", f"payment {event.payment_id} processed"
    )
    await transition_in(uow, cmd, utcnow())


SUBSCRIPTIONS = [Subscription(payment_events.PaymentProcessed, "reservations-payment-processed", on_payment_processed)]
