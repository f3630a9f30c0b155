"""NotificationService through the real servers: partner bookings delivered as signed webhooks to a
real HTTP receiver, retries with backoff, FAILED and operator retry, guest notifications from status
changes, exactly-once per event, and the RPCs' errors."""

import time
import uuid

import grpc
import nats
import pytest
from novatrek.notifications.v1 import notifications_pb2 as pb
from novatrek.partners.v1 import events_pb2 as partner_events
from novatrek.partners.v1 import partners_pb2
from novatrek.reservations.v1 import reservations_pb2 as res

from services.cli.embedded import free_port
from services.notifications.signature import TOLERANCE_S, verify
from services.notifications.sink import WebhookSink
from tests.helpers import eventually, fails
from tests.integration.booking import create_request, new_departure, new_guest
from tests.integration.notification_fixtures import FAST_DELIVERY, register_with_webhook
from tests.integration.partner_fixtures import ADMIN, as_key, booking_request

PENDING, DELIVERED, FAILED, SKIPPED = (
    pb.NOTIFICATION_STATUS_PENDING,
    pb.NOTIFICATION_STATUS_DELIVERED,
    pb.NOTIFICATION_STATUS_FAILED,
    pb.NOTIFICATION_STATUS_SKIPPED,
)


@pytest.fixture
def sink():
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


async def book(partners_stub, guests_stub, catalog_stub, api_key: str) -> partners_pb2.PartnerBooking:
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    request = booking_request(guest_id, trip_id, day, 1, partner_reference="HOOK-1")
    return (await partners_stub.CreatePartnerBooking(request, metadata=as_key(api_key, uuid.uuid4().hex))).booking


def partners_notification(stub, partner_id: str, *statuses):
    """A predicate for `eventually`: the partner's one notification, once it is in one of `statuses`."""

    async def found():
        listed = (await stub.ListNotifications(pb.ListNotificationsRequest(partner_id=partner_id))).notifications
        return listed[0] if listed and listed[0].status in statuses else None

    return found


async def attempts_of(stub, notification_id: str) -> list[pb.DeliveryAttempt]:
    return list((await stub.GetNotification(pb.GetNotificationRequest(notification_id=notification_id))).attempts)


async def test_a_partner_booking_is_delivered_once_signed_with_the_partners_secret(
    notifications_stub, partners_stub, guests_stub, catalog_stub, sink
):
    partner_id, key, _ = await register_with_webhook(partners_stub, sink.url)
    secret = (
        await partners_stub.GetPartnerWebhook(
            partners_pb2.GetPartnerWebhookRequest(partner_id=partner_id), metadata=ADMIN
        )
    ).webhook_secret
    sink.trust(secret)
    booking = await book(partners_stub, guests_stub, catalog_stub, key)

    n = await eventually(partners_notification(notifications_stub, partner_id, DELIVERED))
    assert (n.kind, n.booking_id, n.reservation_id, n.target, n.attempt_count) == (
        pb.NOTIFICATION_KIND_PARTNER_BOOKING_CONFIRMED,
        booking.booking_id,
        booking.reservation_id,
        sink.url,
        1,
    )
    assert n.event_type == "novatrek.external.partner_booking.confirmed.v1" and n.HasField("deliver_time")
    assert not n.HasField("next_attempt_time") and n.last_error == ""
    [got] = sink.received
    assert got.verified and got.answered == 200 and got.event_id == n.event_id
    assert verify(secret, got.timestamp, got.body, got.signature, time.time())  # the partner's own check
    assert abs(time.time() - int(got.timestamp)) < TOLERANCE_S
    assert not verify("another-secret", got.timestamp, got.body, got.signature, time.time())
    body = got.json()
    assert (body["id"], body["type"]) == (n.event_id, n.event_type)
    assert body["data"]["booking"]["bookingId"] == booking.booking_id  # canonical proto3 JSON
    assert body["data"]["booking"]["status"] == "PARTNER_BOOKING_STATUS_CONFIRMED"
    [attempt] = await attempts_of(notifications_stub, n.notification_id)
    assert (attempt.attempt_number, attempt.http_status, attempt.error) == (1, 200, "")


async def test_a_receiver_that_fails_for_a_while_gets_the_delivery_once_it_recovers(
    notifications_stub, partners_stub, guests_stub, catalog_stub, sink
):
    partner_id, key, secret = await register_with_webhook(partners_stub, sink.url)
    sink.trust(secret)
    sink.fail_next(2)  # answers 500 twice
    await book(partners_stub, guests_stub, catalog_stub, key)

    async def retrying():
        n = await partners_notification(notifications_stub, partner_id, PENDING)()
        return n if n and n.attempt_count >= 1 else None

    waiting = await eventually(retrying, interval_s=0.05)
    assert waiting.HasField("next_attempt_time") and waiting.last_error == "HTTP 500"

    n = await eventually(partners_notification(notifications_stub, partner_id, DELIVERED))
    assert n.attempt_count == 3 and n.last_error == ""
    attempts = await attempts_of(notifications_stub, n.notification_id)
    assert [(a.attempt_number, a.http_status, a.error) for a in attempts] == [
        (1, 500, "HTTP 500"),
        (2, 500, "HTTP 500"),
        (3, 200, ""),
    ]
    first, second = (
        attempts[1].attempt_time.ToDatetime() - attempts[0].attempt_time.ToDatetime(),
        attempts[2].attempt_time.ToDatetime() - attempts[1].attempt_time.ToDatetime(),
    )
    base = FAST_DELIVERY["delivery_backoff_base_s"]
    assert first.total_seconds() >= base * 0.8 and second.total_seconds() >= 2 * base * 0.8  # exponential, minus jitter
    assert [r.answered for r in sink.received] == [500, 500, 200] and len({r.event_id for r in sink.received}) == 1


async def test_an_unreachable_receiver_fails_after_max_attempts_and_an_operator_retry_delivers(
    notifications_stub, partners_stub, guests_stub, catalog_stub
):
    port = free_port()  # nothing listens here yet
    receiver = WebhookSink(port=port)
    partner_id, key, secret = await register_with_webhook(partners_stub, receiver.url)
    await book(partners_stub, guests_stub, catalog_stub, key)

    n = await eventually(partners_notification(notifications_stub, partner_id, FAILED))
    assert (
        n.attempt_count == FAST_DELIVERY["delivery_max_attempts"]
        and not n.HasField("next_attempt_time")
        and n.last_error
    )
    attempts = await attempts_of(notifications_stub, n.notification_id)
    assert [a.http_status for a in attempts] == [0] * 4 and all(a.error for a in attempts)

    receiver.trust(secret)
    receiver.start()
    try:
        retried = (
            await notifications_stub.RetryNotification(pb.RetryNotificationRequest(notification_id=n.notification_id))
        ).notification
        assert retried.status == PENDING and retried.attempt_count == 4 and retried.HasField("next_attempt_time")
        n = await eventually(partners_notification(notifications_stub, partner_id, DELIVERED))
        assert n.attempt_count == 5 and [r.verified for r in receiver.received] == [True]
        assert (await attempts_of(notifications_stub, n.notification_id))[-1].http_status == 200
    finally:
        receiver.stop()
    failure = await fails(
        notifications_stub.RetryNotification(pb.RetryNotificationRequest(notification_id=n.notification_id))
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTIFICATION_NOT_FAILED")
    assert failure.metadata == {"status": "DELIVERED"}


async def test_a_partner_without_a_webhook_is_skipped(notifications_stub, partners_stub, guests_stub, catalog_stub):
    partner_id, key, _ = await register_with_webhook(partners_stub, "")
    await book(partners_stub, guests_stub, catalog_stub, key)
    n = await eventually(partners_notification(notifications_stub, partner_id, SKIPPED))
    assert n.attempt_count == 0 and "no webhook" in n.last_error
    failure = await fails(
        notifications_stub.RetryNotification(pb.RetryNotificationRequest(notification_id=n.notification_id))
    )
    assert (failure.code, failure.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTIFICATION_NOT_FAILED")


async def test_a_reservation_status_change_notifies_the_guest(
    notifications_stub, reservations_stub, guests_stub, catalog_stub
):
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    reservation = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 1))).reservation
    await reservations_stub.TransitionReservationStatus(
        res.TransitionReservationStatusRequest(
            reservation_id=reservation.reservation_id,
            status=res.RESERVATION_STATUS_CONFIRMED,
            changed_by="test",
            reason="paid",
        )
    )

    async def guest_notified():
        request = pb.ListNotificationsRequest(
            reservation_id=reservation.reservation_id, kind=pb.NOTIFICATION_KIND_RESERVATION_STATUS_CHANGED
        )
        return (await notifications_stub.ListNotifications(request)).notifications

    [n] = await eventually(guest_notified)
    assert (n.status, n.target, n.attempt_count, n.partner_id, n.booking_id) == (DELIVERED, "log", 1, "", "")
    assert n.event_type == "novatrek.booking.reservation.status_changed.v1" and n.HasField("deliver_time")


async def test_an_event_published_twice_with_one_id_is_notified_once(notifications_stub, nats_url):
    partner_id, event_id, marker_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())  # unknown partner
    booking = partners_pb2.PartnerBooking(
        booking_id=str(uuid.uuid4()), partner_id=partner_id, reservation_id=str(uuid.uuid4())
    )
    payload = partner_events.PartnerBookingConfirmed(booking=booking).SerializeToString()
    nc = await nats.connect(nats_url)
    try:
        # A second Nats-Msg-Id gets past JetStream's de-duplication; the marker, a later event, is
        # handled after both by the one in-order consumer: once it is notified, so is the duplicate.
        for ce_id, msg_id in ((event_id, event_id), (event_id, f"{event_id}-again"), (marker_id, marker_id)):
            await nc.jetstream().publish(
                "novatrek.external.partner-booking.confirmed",
                payload,
                headers={"ce-id": ce_id, "Nats-Msg-Id": msg_id},
                timeout=5,
            )
    finally:
        await nc.close()

    async def marker_notified():
        request = pb.ListNotificationsRequest(partner_id=partner_id)
        listed = (await notifications_stub.ListNotifications(request)).notifications
        return marker_id in {x.event_id for x in listed} and listed

    listed = await eventually(marker_notified)
    assert sorted(x.event_id for x in listed) == sorted([event_id, marker_id])


async def test_pages_are_bound_to_their_filters(notifications_stub, partners_stub, guests_stub, catalog_stub):
    partner_id, key, _ = await register_with_webhook(partners_stub, "")
    for _ in range(3):
        await book(partners_stub, guests_stub, catalog_stub, key)

    async def three():
        listed = (
            await notifications_stub.ListNotifications(pb.ListNotificationsRequest(partner_id=partner_id))
        ).notifications
        return len(listed) == 3 and listed

    everything = await eventually(three)
    seen, token = [], ""
    while True:
        page = await notifications_stub.ListNotifications(
            pb.ListNotificationsRequest(partner_id=partner_id, page_size=2, page_token=token)
        )
        seen += [x.notification_id for x in page.notifications]
        if not (token := page.next_page_token):
            break
        failure = await fails(
            notifications_stub.ListNotifications(pb.ListNotificationsRequest(page_size=2, page_token=token))
        )
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in failure.violations
    assert seen == [x.notification_id for x in everything]  # newest first, nothing twice or lost


async def test_bad_requests_and_unknown_ids(notifications_stub):
    failure = await fails(
        notifications_stub.ListNotifications(
            pb.ListNotificationsRequest(
                page_size=-1, page_token="forged", partner_id="x", reservation_id="y", status=99, kind=42
            )
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {"page_size", "page_token", "partner_id", "reservation_id", "status", "kind"}
    for call, request in (
        (notifications_stub.GetNotification, pb.GetNotificationRequest),
        (notifications_stub.RetryNotification, pb.RetryNotificationRequest),
    ):
        failure = await fails(call(request(notification_id="not-a-uuid")))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and set(failure.violations) == {"notification_id"}
        failure = await fails(call(request()))
        assert failure.violations == {"notification_id": "is required"}
        unknown = str(uuid.uuid4())
        failure = await fails(call(request(notification_id=unknown)))
        assert (failure.code, failure.reason, failure.metadata) == (
            grpc.StatusCode.NOT_FOUND,
            "NOTIFICATION_NOT_FOUND",
            {"notification_id": unknown},
        )
