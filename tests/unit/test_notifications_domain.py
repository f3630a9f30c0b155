"""Notifications without I/O: delivery state machine, backoff, signatures, the webhook body, the cache."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from novatrek.partners.v1 import events_pb2, partners_pb2

from services.chassis.errors import FailedPrecondition, NotFound, Unavailable
from services.notifications.adapters import PartnerWebhooks
from services.notifications.consumers import envelope
from services.notifications.domain import LOG_TARGET, Notification, Outcome, RetryPolicy, Status, Webhook
from services.notifications.signature import sign, signed_headers, verify

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_s=1.0, max_s=300.0, max_attempts=3, jitter=0.2)
OK, DOWN = Outcome(204, "", 12), Outcome(0, "ConnectError: refused", 3)


def pending() -> Notification:
    return Notification.to_partner("ev-1", "t", "{}", NOW, uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens_it():
    assert [POLICY.delay(n, 0.0).total_seconds() for n in (1, 2, 3, 9, 10, 200)] == [1, 2, 4, 256, 300, 300]
    assert POLICY.delay(3, 0.999).total_seconds() == pytest.approx(4 * 0.8, rel=1e-3)


def test_a_2xx_delivers_and_records_the_attempt():
    delivered, attempt = pending().attempted("https://h", OK, NOW, POLICY, 0.0)
    assert (
        delivered.status,
        delivered.attempts,
        delivered.delivered_at,
        delivered.next_attempt_at,
        delivered.target,
    ) == (Status.DELIVERED, 1, NOW, None, "https://h")
    assert (attempt.number, attempt.http_status, attempt.error, attempt.duration_ms) == (1, 204, "", 12)


def test_failures_back_off_then_fail_after_max_attempts_and_an_operator_retry_opens_a_new_round():
    n = pending()
    for number, delay in ((1, 1), (2, 2)):
        n, attempt = n.attempted("https://h", DOWN, NOW, POLICY, 0.0)
        assert (n.status, n.attempts, n.next_attempt_at, n.last_error) == (
            Status.PENDING,
            number,
            NOW + timedelta(seconds=delay),
            DOWN.error,
        )
    n, _ = n.attempted("https://h", Outcome(503, "HTTP 503", 5), NOW, POLICY, 0.0)
    assert (n.status, n.attempts, n.next_attempt_at, n.last_error) == (Status.FAILED, 3, None, "HTTP 503")
    retried = n.retried(NOW)
    assert (retried.status, retried.attempts, retried.round_start, retried.next_attempt_at) == (
        Status.PENDING,
        3,
        3,
        NOW,
    )
    again, attempt = retried.attempted("https://h", DOWN, NOW, POLICY, 0.0)
    assert (again.status, attempt.number, again.next_attempt_at) == (
        Status.PENDING,
        4,
        NOW + timedelta(seconds=1),
    )  # a fresh round


def test_only_a_failed_notification_can_be_retried():
    delivered, _ = pending().attempted("https://h", OK, NOW, POLICY, 0.0)
    for n in (pending(), delivered, pending().skipped("no webhook")):
        with pytest.raises(FailedPrecondition) as caught:
            n.retried(NOW)
        assert caught.value.reason == "NOTIFICATION_NOT_FAILED" and caught.value.metadata == {"status": n.status.name}


def test_guest_notifications_are_delivered_to_the_log_when_recorded():
    n = Notification.logged_for_guest("ev-2", "t", "{}", NOW, uuid.uuid4())
    assert (n.status, n.target, n.attempts, n.delivered_at, n.next_attempt_at) == (
        Status.DELIVERED,
        LOG_TARGET,
        1,
        NOW,
        None,
    )


def test_signature_covers_timestamp_and_body_and_refuses_stale_deliveries():
    body, now = b'{"id":"e"}', 1_900_000_000
    headers = signed_headers("s3cret", "e", body, now)
    ts, sig = headers["X-NovaTrek-Timestamp"], headers["X-NovaTrek-Signature"]
    assert headers["Content-Type"] == "application/json" and headers["X-NovaTrek-Event-Id"] == "e"
    assert sig == sign("s3cret", str(now), body) and sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify("s3cret", ts, body, sig, now + 299)
    assert not verify("s3cret", ts, body, sig, now + 301)  # replayed later
    assert not verify("s3cret", ts, body + b" ", sig, now)  # tampered body
    assert not verify("s3cret", str(now + 1), body, sig, now)  # tampered timestamp
    assert not verify("other", ts, body, sig, now) and not verify("s3cret", "soon", body, sig, now)


def test_the_webhook_body_is_a_cloudevent_with_the_booking_in_canonical_json():
    booking = partners_pb2.PartnerBooking(
        booking_id="b-1", partner_id="p-1", party_size=2, status=partners_pb2.PARTNER_BOOKING_STATUS_CONFIRMED
    )
    event = events_pb2.PartnerBookingConfirmed(booking=booking)
    event.occur_time.FromDatetime(NOW)
    event_id, event_type, body = envelope(event, {"ce-id": "ev-9", "ce-source": "//novatrek.io/partner-integrations"})
    doc = json.loads(body)
    assert (event_id, event_type) == ("ev-9", "novatrek.external.partner_booking.confirmed.v1")
    assert (doc["id"], doc["type"], doc["time"], doc["source"]) == (
        "ev-9",
        event_type,
        "2030-05-01T12:00:00Z",
        "//novatrek.io/partner-integrations",
    )
    assert doc["data"]["booking"] == {
        "bookingId": "b-1",
        "partnerId": "p-1",
        "partySize": 2,
        "status": "PARTNER_BOOKING_STATUS_CONFIRMED",
    }


class FakePartners:
    def __init__(self, answers: dict) -> None:
        self.answers, self.calls = answers, 0

    async def get_webhook(self, partner_id: str):
        self.calls += 1
        answer = self.answers[partner_id]
        if isinstance(answer, Exception):
            raise answer
        return partners_pb2.GetPartnerWebhookResponse(webhook_url=answer[0], webhook_secret=answer[1])


async def test_webhooks_are_cached_briefly_unknown_partners_have_none_and_failures_are_not_cached():
    known, bare, unknown, down = (uuid.uuid4() for _ in range(4))
    fake, now = (
        FakePartners(
            {
                str(known): ("https://h", "s"),
                str(bare): ("", "s"),
                str(unknown): NotFound("no"),
                str(down): Unavailable("down"),
            }
        ),
        [0.0],
    )
    webhooks = PartnerWebhooks(fake, ttl_s=30, clock=lambda: now[0])
    assert await webhooks.webhook_of(known) == Webhook("https://h", "s") and "hunter2" not in repr(
        Webhook("https://h", "hunter2")
    )
    assert await webhooks.webhook_of(known) == Webhook("https://h", "s") and fake.calls == 1
    assert await webhooks.webhook_of(bare) is None and await webhooks.webhook_of(unknown) is None
    for _ in range(2):
        with pytest.raises(Unavailable):
            await webhooks.webhook_of(down)
    assert fake.calls == 5
    now[0] = 31.0
    await webhooks.webhook_of(known)
    assert fake.calls == 6
