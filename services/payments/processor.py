"""PaymentProcessor adapters, chosen by the `processor` setting, each bounded by a deadline."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from services.chassis.context import outbound_timeout
from services.chassis.errors import DeadlineExceeded
from services.payments.domain import AuthorizationRequest, Charge, ChargeRequest
from services.payments.ports import PaymentProcessor, ProcessorUnavailable

DEFAULT_DECLINE = "insufficient_funds"


def _reference(key: uuid.UUID) -> str:
    return "fake_" + hashlib.sha256(key.bytes).hexdigest()[:24]


class FakeProcessor:
    """Deterministic stand-in for a card processor, for development and tests. The method reference
    decides:

    - `decline…` is declined (`decline_expired_card` -> reason `expired_card`, plain `decline` ->
      `insufficient_funds`);
    - `fail…` is an outage: nothing happens, ProcessorUnavailable at once;
    - `timeout…` is a lost answer: the charge or authorization happens, but the answer comes only
      after `delay_s` (the `fake_processor_delay_s` setting), as ProcessorUnavailable — the caller's
      deadline expires first;
    - anything else succeeds.

    The processor reference derives from the idempotency key, as a real processor answers a retried
    call. `holds` is the processor's side of each authorization (key -> authorized, declined,
    captured, voided, refunded) and `calls` every call made (operation, key), for tests to look at.
    Capture, void and refund always succeed; a void of an unknown key leaves it voided."""

    def __init__(self, delay_s: float = 30.0) -> None:
        self.delay_s = delay_s
        self.holds: dict[uuid.UUID, str] = {}
        self.calls: list[tuple[str, uuid.UUID]] = []

    async def charge(self, request: ChargeRequest) -> Charge:
        return await self._answer(request.method_reference, request.request_id)

    async def authorize(self, request: AuthorizationRequest) -> Charge:
        key, method = request.checkout_id, request.method_reference.lower()
        self.calls.append(("authorize", key))
        if not method.startswith("fail"):  # a retried key keeps what the processor did first
            self.holds.setdefault(key, "declined" if method.startswith("decline") else "authorized")
        return await self._answer(method, key)

    async def capture(self, checkout_id: uuid.UUID) -> None:
        self._record("capture", checkout_id, "captured")

    async def void(self, checkout_id: uuid.UUID) -> None:
        self._record("void", checkout_id, "voided")

    async def refund(self, checkout_id: uuid.UUID) -> None:
        self._record("refund", checkout_id, "refunded")

    def _record(self, operation: str, key: uuid.UUID, state: str) -> None:
        self.calls.append((operation, key))
        self.holds[key] = state

    async def _answer(self, method_reference: str, key: uuid.UUID) -> Charge:
        method = method_reference.lower()
        if method.startswith("fail"):
            raise ProcessorUnavailable("the payment processor is unavailable; retry later")
        if method.startswith("timeout"):
            await asyncio.sleep(self.delay_s)
            raise ProcessorUnavailable("the payment processor did not answer; retry later")
        if method.startswith("decline"):
            return Charge(False, _reference(key), method.removeprefix("decline").strip("_-:") or DEFAULT_DECLINE)
        return Charge(True, _reference(key))


class WithDeadline:
    """Any processor, each call bounded: past `deadline_s`, or past what the inbound call's deadline
    leaves (DESIGN §5), the call is abandoned as ProcessorUnavailable (what it did, if anything, a retry
    under the same key finds at the processor)."""

    def __init__(self, processor: PaymentProcessor, deadline_s: float) -> None:
        self.processor, self.deadline_s = processor, deadline_s

    async def charge(self, request: ChargeRequest) -> Charge:
        return await self._bounded(self.processor.charge(request))

    async def authorize(self, request: AuthorizationRequest) -> Charge:
        return await self._bounded(self.processor.authorize(request))

    async def capture(self, checkout_id: uuid.UUID) -> None:
        await self._bounded(self.processor.capture(checkout_id))

    async def void(self, checkout_id: uuid.UUID) -> None:
        await self._bounded(self.processor.void(checkout_id))

    async def refund(self, checkout_id: uuid.UUID) -> None:
        await self._bounded(self.processor.refund(checkout_id))

    async def _bounded(self, call):
        deadline_s = outbound_timeout(self.deadline_s)  # never past what the inbound call has left
        try:
            async with asyncio.timeout(deadline_s):
                return await call
        except TimeoutError:
            if deadline_s < self.deadline_s:  # the caller's deadline, not the processor's, ran out
                raise DeadlineExceeded("the call's deadline ran out at the payment processor") from None
            raise ProcessorUnavailable(f"the payment processor did not answer within {deadline_s:.3g}s") from None


PROCESSORS: dict[str, type] = {"fake": FakeProcessor}


def processor_named(name: str, delay_s: float = 30.0) -> PaymentProcessor:
    try:
        return PROCESSORS[name](delay_s)
    except KeyError:
        raise ValueError(f"unknown payment processor {name!r}; known: {', '.join(PROCESSORS)}") from None
