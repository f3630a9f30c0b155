"""PaymentProcessor adapters, chosen by the `processor` setting."""

from __future__ import annotations

import hashlib

from services.payments.domain import Charge, ChargeRequest
from services.payments.ports import PaymentProcessor, ProcessorUnavailable

DEFAULT_DECLINE = "insufficient_funds"


class FakeProcessor:
    """Deterministic stand-in for a card processor, for development and tests. The method reference
    decides: `decline…` is declined (`decline_expired_card` -> reason `expired_card`, plain
    `decline` -> `insufficient_funds`), `fail…` is an outage, anything else succeeds. The processor
    reference derives from the idempotency key, as a real processor answers a retried charge."""

    async def charge(self, request: ChargeRequest) -> Charge:
        method = request.method_reference.lower()
        if method.startswith("fail"):
            raise ProcessorUnavailable("the payment processor is unavailable; retry later")
        reference = "fake_" + hashlib.sha256(request.request_id.bytes).hexdigest()[:24]
        if method.startswith("decline"):
            return Charge(False, reference, method.removeprefix("decline").strip("_-:") or DEFAULT_DECLINE)
        return Charge(True, reference)


PROCESSORS: dict[str, type] = {"fake": FakeProcessor}


def processor_named(name: str) -> PaymentProcessor:
    try:
        return PROCESSORS[name]()
    except KeyError:
        raise ValueError(f"unknown payment processor {name!r}; known: {', '.join(PROCESSORS)}") from None
