"""Notification domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.notifications.v1 import notifications_pb2 as pb

from services.chassis.protoconv import timestamp
from services.notifications.domain import Attempt, Kind, Notification, Status

KIND_TO_PB = {k: pb.NotificationKind.Value(f"NOTIFICATION_KIND_{k.name}") for k in Kind}
KIND_FROM_PB = {v: k for k, v in KIND_TO_PB.items()}
STATUS_TO_PB = {s: pb.NotificationStatus.Value(f"NOTIFICATION_STATUS_{s.name}") for s in Status}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}


def _id(value) -> str:
    return str(value) if value else ""


def _time(value):
    return timestamp(value) if value else None


def notification_to_pb(n: Notification) -> pb.Notification:
    return pb.Notification(
        notification_id=str(n.notification_id),
        kind=KIND_TO_PB[n.kind],
        status=STATUS_TO_PB[n.status],
        partner_id=_id(n.partner_id),
        reservation_id=_id(n.reservation_id),
        booking_id=_id(n.booking_id),
        target=n.target,
        attempt_count=n.attempts,
        last_error=n.last_error,
        create_time=timestamp(n.created_at),
        deliver_time=_time(n.delivered_at),
        next_attempt_time=_time(n.next_attempt_at),
        event_id=n.event_id,
        event_type=n.event_type,
    )


def attempt_to_pb(a: Attempt) -> pb.DeliveryAttempt:
    return pb.DeliveryAttempt(
        attempt_number=a.number,
        attempt_time=timestamp(a.attempted_at),
        http_status=a.http_status,
        error=a.error,
        duration_ms=a.duration_ms,
    )
