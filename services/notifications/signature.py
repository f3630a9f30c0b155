"""Webhook signatures: `X-NovaTrek-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.

The timestamp (`X-NovaTrek-Timestamp`, unix seconds) is part of what is signed, so a receiver that
refuses old timestamps (TOLERANCE_S) cannot be fed a captured delivery again later."""

from __future__ import annotations

import hashlib
import hmac

EVENT_ID_HEADER = "X-NovaTrek-Event-Id"
TIMESTAMP_HEADER = "X-NovaTrek-Timestamp"
SIGNATURE_HEADER = "X-NovaTrek-Signature"
TOLERANCE_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, event_id: str, body: bytes, now: float) -> dict[str, str]:
    timestamp = str(int(now))
    return {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance_s: float = TOLERANCE_S
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature (compared in constant time)."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)
