"""Where a partner's webhooks go: partner-integrations' GetPartnerWebhook, cached briefly."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from clients.partners import PartnersClient
from services.chassis.errors import NotFound
from services.notifications.domain import Webhook


class PartnerWebhooks:
    """`webhook_of` -> Webhook, or None when the partner has no webhook URL or is unknown. Answers are
    cached `ttl_s` (a burst of bookings costs one lookup); failures are not cached, they raise."""

    def __init__(
        self, client: PartnersClient, ttl_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client, self.ttl_s, self.clock = client, ttl_s, clock
        self._cache: dict[uuid.UUID, tuple[float, Webhook | None]] = {}

    async def webhook_of(self, partner_id: uuid.UUID) -> Webhook | None:
        now = self.clock()
        cached = self._cache.get(partner_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self.client.get_webhook(str(partner_id))
            found = Webhook(answer.webhook_url, answer.webhook_secret) if answer.webhook_url else None
        except NotFound:
            found = None
        self._cache[partner_id] = (now + self.ttl_s, found)
        return found
