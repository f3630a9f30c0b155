"""Sends one signed webhook over HTTP and reports what happened (never raises for the receiver's faults)."""

from __future__ import annotations

import time

import httpx

from services.notifications.domain import Outcome, Webhook
from services.notifications.signature import signed_headers

USER_AGENT = "NovaTrek-Webhooks/1"


class WebhookSender:
    def __init__(self, timeout_s: float = 5.0) -> None:
        # No redirects: a signed delivery goes only where the partner registered (a 3xx is a failure).
        self.client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, headers={"User-Agent": USER_AGENT})

    async def send(self, webhook: Webhook, event_id: str, body: str) -> Outcome:
        content = body.encode()
        headers = signed_headers(webhook.secret, event_id, content, time.time())
        started = time.perf_counter()
        try:
            # Streamed and not read: only the status matters, however large the answer.
            async with self.client.stream("POST", webhook.url, content=content, headers=headers) as response:
                status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Outcome(0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, _ms(started))
        return Outcome(status, "" if 200 <= status < 300 else f"HTTP {status}", _ms(started))

    async def close(self) -> None:
        await self.client.aclose()


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
