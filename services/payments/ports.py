"""What the payment use cases need from the outside; processor.py implements the processor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.chassis.errors import Unavailable
from services.payments.domain import Charge, ChargeRequest


@dataclass
class ProcessorUnavailable(Unavailable):
    """The processor is down or timed out: nothing was charged that a retry would charge again."""

    reason: str = "PROCESSOR_UNAVAILABLE"
    retry_after_s: float = 2.0


class DuplicatePayment(Exception):
    """Persistence: a payment with this request_id was stored by a concurrent twin."""


class PaymentProcessor(Protocol):
    async def charge(self, request: ChargeRequest) -> Charge:
        """Charges once per `request.request_id` (passed on as the processor's idempotency key, so
        a retry or a racing twin is not charged twice). A decline is returned, not raised; raises
        ProcessorUnavailable when the processor cannot answer."""
