"""Events this context consumes: each becomes one notification, recorded in the consumer's unit of
work (with its inbox row), so a redelivered event is not notified twice."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

from google.protobuf import json_format
from novatrek.partners.v1 import events_pb2 as partner_events
from novatrek.reservations.v1 import events_pb2 as reservation_events
from novatrek.reservations.v1.reservations_pb2 import ReservationStatus

from services.chassis.consumer import Subscription
from services.chassis.events import spec_of
from services.chassis.protoconv import utcnow
from services.notifications import handlers
from services.notifications.domain import Attempt, Notification

log = logging.getLogger("novatrek.notifications.guests")


def envelope(event, headers: dict) -> tuple[str, str, str]:
    """(event id, event type, body): the body is the event as a CloudEvents JSON document whose
    `data` is the event message in canonical proto3 JSON. It is fixed here, so every attempt sends
    (and signs) the same bytes."""
    event_id = headers.get("ce-id") or str(uuid.uuid4())  # no ce-id: the inbox keys it by stream sequence
    event_type = headers.get("ce-type") or spec_of(event).ce_type
    occurred = event.occur_time.ToJsonString() if event.HasField("occur_time") else utcnow().isoformat()
    body = {
        "specversion": "1.0",
        "id": event_id,
        "type": event_type,
        "source": headers.get("ce-source", ""),
        "time": occurred,
        "datacontenttype": "application/json",
        "data": json_format.MessageToDict(event),
    }
    return event_id, event_type, json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _tell_guest(n: Notification, event: reservation_events.ReservationStatusChanged) -> None:
    """The guest channel of this ring is the log. Written before the commit: a crash in between repeats
    the line on redelivery (at least once), never loses it."""
    log.info(
        "guest notified of a reservation status change",
        extra={
            "notification_id": str(n.notification_id),
            "reservation_id": event.reservation_id,
            "guest_id": event.guest_id,
            "confirmation_code": event.confirmation_code,
            "old_status": ReservationStatus.Name(event.old_status),
            "new_status": ReservationStatus.Name(event.new_status),
            "reason": event.reason,
        },
    )


def subscriptions(wake: Callable[[], None]) -> list[Subscription]:
    async def on_partner_booking_confirmed(event: partner_events.PartnerBookingConfirmed, uow, headers: dict) -> None:
        b = event.booking
        event_id, event_type, body = envelope(event, headers)
        notification = Notification.to_partner(
            event_id,
            event_type,
            body,
            utcnow(),
            uuid.UUID(b.partner_id),
            uuid.UUID(b.reservation_id),
            uuid.UUID(b.booking_id),
        )
        await handlers.record(uow, notification, wake)

    async def on_reservation_status_changed(
        event: reservation_events.ReservationStatusChanged, uow, headers: dict
    ) -> None:
        event_id, event_type, body = envelope(event, headers)
        n = Notification.logged_for_guest(event_id, event_type, body, utcnow(), uuid.UUID(event.reservation_id))
        if await handlers.record(uow, n, wake, Attempt(n.notification_id, 1, n.created_at, 0, "", 0)):
            _tell_guest(n, event)

    return [
        Subscription(
            partner_events.PartnerBookingConfirmed,
            "notifications-partner-booking-confirmed",
            on_partner_booking_confirmed,
        ),
        Subscription(
            reservation_events.ReservationStatusChanged,
            "notifications-reservation-status-changed",
            on_reservation_status_changed,
        ),
    ]
