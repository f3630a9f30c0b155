"""What the payment use cases need from the outside; processor.py implements the processor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from services.chassis.errors import Unavailable
from services.payments.domain import AuthorizationRequest, Charge, ChargeRequest


@dataclass
class ProcessorUnavailable(Unavailable):
    """The processor is down or did not answer in time: we stored nothing, and a retry under the
    same key is answered by the processor as the first call was (charged or authorized at most once)."""

    reason: str = "PROCESSOR_UNAVAILABLE"
    retry_after_s: float = 2.0


class DuplicatePayment(Exception):
    """Persistence: a payment with this request_id was stored by a concurrent twin."""


class PaymentProcessor(Protocol):
    """Every call is idempotent at the processor by its key, so a retry, a racing twin or a retry
    after a lost answer never charges, authorizes, captures or refunds twice. A decline is returned,
    not raised; ProcessorUnavailable is raised when the processor cannot answer (in time)."""

    async def charge(self, request: ChargeRequest) -> Charge:
        """Charges once per `request.request_id`."""

    async def authorize(self, request: AuthorizationRequest) -> Charge:
        """Holds the amount once per `request.checkout_id` (the authorization's key)."""

    async def capture(self, checkout_id: uuid.UUID) -> None:
        """Captures the authorization made under `checkout_id`."""

    async def void(self, checkout_id: uuid.UUID) -> None:
        """Releases the hold made under `checkout_id`, if any: addressed by the key, not by our row, so
        an authorization whose answer we lost (a crash, a timeout) can be voided too."""

    async def refund(self, checkout_id: uuid.UUID) -> None:
        """Refunds the capture made under `checkout_id`."""
