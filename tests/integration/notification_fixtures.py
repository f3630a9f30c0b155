"""Helpers of the notifications tests: fast delivery settings, partners with a webhook."""

from __future__ import annotations

import uuid

from novatrek.partners.v1 import partners_pb2 as pb

from tests.integration.partner_fixtures import ADMIN, count_plan

# Small backoff so that retries, FAILED and recovery take about a second.
FAST_DELIVERY = {
    "delivery_backoff_base_s": 0.3,
    "delivery_backoff_max_s": 1.0,
    "delivery_max_attempts": 4,
    "delivery_poll_interval_s": 0.2,
    "webhook_timeout_s": 2.0,
}


async def register_with_webhook(stub, webhook_url: str) -> tuple[str, str, str]:
    """A partner whose webhook is `webhook_url` (may be empty): (partner_id, api_key, webhook_secret)."""
    partner = pb.Partner(
        name=f"OTA {uuid.uuid4().hex[:6]}",
        contact_email="hooks@ota.example",
        webhook_url=webhook_url,
        commission_plan=count_plan(("0", "0.10")),
    )
    answer = await stub.RegisterPartner(pb.RegisterPartnerRequest(partner=partner), metadata=ADMIN)
    return answer.partner.partner_id, answer.api_key, answer.webhook_secret
