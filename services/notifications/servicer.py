"""NotificationService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from novatrek.notifications.v1 import notifications_pb2 as pb
from novatrek.notifications.v1 import notifications_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import page_size, parse_uuid
from services.notifications import commands, handlers
from services.notifications.protomap import KIND_FROM_PB, STATUS_FROM_PB, attempt_to_pb, notification_to_pb


def _enum_filter(value: int, known: dict, field: str, v: Violations) -> str | None:
    """A filter on an enum: unset (0) matches any; an unknown number is a violation."""
    if not value:
        return None
    v.check(value in known, field, "must be a known value")
    return known[value].value if value in known else None


class NotificationServicer(notifications_pb2_grpc.NotificationServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def ListNotifications(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        filters = {
            "partner_id": parse_uuid(request.partner_id, "partner_id", v, required=False),
            "reservation_id": parse_uuid(request.reservation_id, "reservation_id", v, required=False),
            "status": _enum_filter(request.status, STATUS_FROM_PB, "status", v),
            "kind": _enum_filter(request.kind, KIND_FROM_PB, "kind", v),
        }
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, after = await handlers.list_notifications(
            commands.ListNotifications(filters, position, limit), self.deps
        )
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListNotificationsResponse(notifications=[notification_to_pb(n) for n in found], next_page_token=token)

    async def GetNotification(self, request, context):
        v = Violations()
        notification_id = parse_uuid(request.notification_id, "notification_id", v)
        v.raise_if_any()
        found, attempts = await handlers.get_notification(notification_id, self.deps)
        return pb.GetNotificationResponse(
            notification=notification_to_pb(found), attempts=[attempt_to_pb(a) for a in attempts]
        )

    async def RetryNotification(self, request, context):
        v = Violations()
        notification_id = parse_uuid(request.notification_id, "notification_id", v)
        v.raise_if_any()
        return pb.RetryNotificationResponse(
            notification=notification_to_pb(await handlers.retry_notification(notification_id, self.deps))
        )
