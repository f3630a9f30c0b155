"""Checkout authorizations: the state machine, the fake processor's tokens and deadline, and the use
cases against in-memory fakes of the unit of work and the processor."""

import asyncio
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.context import deadline_var
from services.chassis.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.payments import handlers
from services.payments.commands import VoidAuthorization
from services.payments.domain import Authorization, AuthorizationRequest, AuthorizationStatus, Charge
from services.payments.processor import FakeProcessor, WithDeadline
from tests.unit.test_payments_handlers import Clock, FakeUow, Store

NOW = datetime(2025, 5, 1, 12, tzinfo=UTC)
S = AuthorizationStatus


def authorization_request(method: str = "tok_visa", **overrides) -> AuthorizationRequest:
    fields = {"checkout_id": uuid.uuid4(), "guest_id": uuid.uuid4(), "amount": Decimal("42.00"), "currency": "EUR"}
    return AuthorizationRequest(**{**fields, "method_reference": method, **overrides})


def in_status(status: AuthorizationStatus) -> Authorization:
    held = Authorization.answered(authorization_request(), Charge(True, "ref"), NOW)
    return replace(held, status=status)


@pytest.fixture
def world():
    store, processor = Store(), FakeProcessor(delay_s=0)
    return store, processor, handlers.Deps(uow=lambda **_: FakeUow(store), processor=processor, clock=Clock())


def by_checkout(checkout_id: uuid.UUID) -> VoidAuthorization:
    return VoidAuthorization(None, checkout_id, "order cancelled")


def by_id(authorization: Authorization) -> VoidAuthorization:
    return VoidAuthorization(authorization.authorization_id, None, "")


# --- the state machine ---


def test_an_answer_is_authorized_or_declined_with_its_reason():
    request = authorization_request()
    held = Authorization.answered(request, Charge(True, "ref"), NOW)
    declined = Authorization.answered(request, Charge(False, "ref", "expired_card"), NOW)
    assert (held.status, held.created_at, held.updated_at) == (S.AUTHORIZED, NOW, NOW)
    assert (declined.status, declined.decline_reason) == (S.DECLINED, "expired_card")
    assert held.answering(request) is held
    with pytest.raises(InvalidArgument) as err:
        held.answering(replace(request, amount=Decimal("42.01")))
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED" and err.value.metadata == {
        "checkout_id": str(request.checkout_id)
    }


@pytest.mark.parametrize(("before", "after"), [(S.AUTHORIZED, S.CAPTURED), (S.CAPTURED, S.CAPTURED)])
def test_capture_moves_a_hold_and_keeps_a_capture(before, after):
    later = NOW + timedelta(minutes=1)
    captured = in_status(before).captured(later)
    assert captured.status is after and captured.updated_at == (later if before is S.AUTHORIZED else NOW)


@pytest.mark.parametrize("status", [S.DECLINED, S.VOIDED, S.REFUNDED])
def test_only_a_hold_or_a_capture_is_capturable(status):
    with pytest.raises(FailedPrecondition) as err:
        in_status(status).captured(NOW)
    assert err.value.reason == "AUTHORIZATION_NOT_CAPTURABLE" and err.value.metadata["status"] == status.value


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.AUTHORIZED, S.VOIDED),
        (S.CAPTURED, S.REFUNDED),
        (S.DECLINED, S.DECLINED),
        (S.VOIDED, S.VOIDED),
        (S.REFUNDED, S.REFUNDED),
    ],
)
def test_cancelling_voids_a_hold_refunds_a_capture_and_keeps_the_rest(before, after):
    assert in_status(before).cancelled(NOW + timedelta(minutes=1)).status is after


# --- the fake processor and the deadline ---


async def test_fake_processor_authorizes_once_per_key_and_declines_by_token():
    processor, request = FakeProcessor(), authorization_request()
    first, again = await processor.authorize(request), await processor.authorize(request)
    assert first == again and first.succeeded and processor.holds == {request.checkout_id: "authorized"}
    declined = await processor.authorize(authorization_request("decline_do_not_honor"))
    assert (declined.succeeded, declined.decline_reason) == (False, "do_not_honor")


async def test_fake_processor_outage_holds_nothing_and_timeout_loses_the_answer_of_a_hold():
    processor = FakeProcessor(delay_s=0)
    outage, timeout = authorization_request("fail_gateway"), authorization_request("timeout_slow_bank")
    for request in (outage, timeout):
        with pytest.raises(Unavailable) as err:
            await processor.authorize(request)
        assert err.value.reason == "PROCESSOR_UNAVAILABLE"
    assert processor.holds == {timeout.checkout_id: "authorized"}  # authorized, but nobody heard


async def test_a_processor_call_past_the_deadline_is_abandoned_as_unavailable():
    processor = WithDeadline(FakeProcessor(delay_s=60), deadline_s=0.01)
    with pytest.raises(Unavailable) as err:
        await asyncio.wait_for(processor.authorize(authorization_request("timeout")), 5)
    assert err.value.reason == "PROCESSOR_UNAVAILABLE" and "0.01s" in err.value.message


async def test_a_processor_call_never_outlives_the_inbound_calls_deadline():
    processor = WithDeadline(FakeProcessor(delay_s=60), deadline_s=60)
    token = deadline_var.set(time.monotonic() + 0.01)  # the caller has 10 ms left
    try:
        with pytest.raises(DeadlineExceeded):
            await asyncio.wait_for(processor.authorize(authorization_request("timeout")), 5)
    finally:
        deadline_var.reset(token)


# --- the use cases ---


async def test_an_authorization_is_stored_once_per_checkout(world):
    store, processor, deps = world
    request = authorization_request()
    held = await handlers.authorize_payment(request, deps)
    assert held.status is S.AUTHORIZED and await handlers.authorize_payment(request, deps) == held
    assert await handlers.get_authorization(held.authorization_id, deps) == held
    assert processor.calls == [("authorize", request.checkout_id)] and list(store.authorizations.values()) == [held]
    with pytest.raises(InvalidArgument) as err:
        await handlers.authorize_payment(replace(request, method_reference="tok_other"), deps)
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_decline_is_stored_and_an_outage_stores_nothing(world):
    store, _, deps = world
    declined = await handlers.authorize_payment(authorization_request("decline"), deps)
    assert (declined.status, declined.decline_reason) == (S.DECLINED, "insufficient_funds")
    for method in ("fail", "timeout"):
        with pytest.raises(Unavailable):
            await handlers.authorize_payment(authorization_request(method), deps)
    assert list(store.authorizations.values()) == [declined]


async def test_a_twin_that_stored_first_is_the_answer(world):
    store, _, deps = world
    request = authorization_request()

    class TwinWinsRace(FakeProcessor):
        async def authorize(self, r):  # the twin commits while we are at the processor
            await handlers.authorize_payment(r, replace(deps, processor=FakeProcessor()))
            return await super().authorize(r)

    held = await handlers.authorize_payment(request, replace(deps, processor=TwinWinsRace()))
    assert list(store.authorizations.values()) == [held]


async def test_a_retry_after_a_lost_answer_gets_the_processors_authorization(world):
    store, processor, deps = world
    request = authorization_request()

    class LosesFirstAnswer(FakeProcessor):
        lost = False

        async def authorize(self, r):
            answer = await processor.authorize(r)
            if not self.lost:
                self.lost = True
                raise Unavailable("answer lost", reason="PROCESSOR_UNAVAILABLE")
            return answer

    flaky = replace(deps, processor=LosesFirstAnswer())
    with pytest.raises(Unavailable):
        await handlers.authorize_payment(request, flaky)
    assert store.authorizations == {} and processor.holds == {request.checkout_id: "authorized"}
    held = await handlers.authorize_payment(request, flaky)
    assert held.status is S.AUTHORIZED and processor.holds == {request.checkout_id: "authorized"}


async def test_capture_then_void_refunds_each_once_at_the_processor(world):
    _, processor, deps = world
    held = await handlers.authorize_payment(authorization_request(), deps)
    captured = await handlers.capture_payment(held.authorization_id, deps)
    assert captured.status is S.CAPTURED and await handlers.capture_payment(held.authorization_id, deps) == captured
    refunded = await handlers.void_authorization(by_id(held), deps)
    assert refunded.status is S.REFUNDED and await handlers.void_authorization(by_id(held), deps) == refunded
    key = held.request.checkout_id
    assert (
        processor.calls == [("authorize", key), ("capture", key), ("refund", key)]
        and processor.holds[key] == "refunded"
    )
    with pytest.raises(FailedPrecondition) as err:
        await handlers.capture_payment(held.authorization_id, deps)
    assert err.value.reason == "AUTHORIZATION_NOT_CAPTURABLE"


async def test_a_voided_hold_is_not_capturable_and_a_decline_is_left_alone(world):
    _, processor, deps = world
    held = await handlers.authorize_payment(authorization_request(), deps)
    voided = await handlers.void_authorization(by_checkout(held.request.checkout_id), deps)
    assert voided.status is S.VOIDED and await handlers.void_authorization(by_id(held), deps) == voided
    with pytest.raises(FailedPrecondition):
        await handlers.capture_payment(held.authorization_id, deps)
    declined = await handlers.authorize_payment(authorization_request("decline"), deps)
    assert await handlers.void_authorization(by_id(declined), deps) == declined
    assert [op for op, _ in processor.calls] == ["authorize", "void", "authorize"]


async def test_voiding_a_checkout_with_no_row_voids_at_the_processor(world):
    store, processor, deps = world
    lost = authorization_request("timeout")  # the processor authorized, we never heard
    with pytest.raises(Unavailable):
        await handlers.authorize_payment(lost, deps)
    assert await handlers.void_authorization(by_checkout(lost.checkout_id), deps) is None
    assert processor.holds == {lost.checkout_id: "voided"} and store.authorizations == {}
    assert store.tombstones == {lost.checkout_id}
    unknown = uuid.uuid4()
    assert await handlers.void_authorization(VoidAuthorization(unknown, None, ""), deps) is None
    assert ("void", unknown) not in processor.calls  # an authorization id is no processor key


async def test_an_authorization_overtaken_by_its_void_is_voided_again_and_refused(world):
    store, processor, deps = world
    request = authorization_request()

    class VoidOvertakes(FakeProcessor):
        async def authorize(self, r):  # the compensation's void by checkout commits while we are here
            answer = await processor.authorize(r)
            assert await handlers.void_authorization(by_checkout(r.checkout_id), deps) is None
            return answer

    with pytest.raises(FailedPrecondition) as err:
        await handlers.authorize_payment(request, replace(deps, processor=VoidOvertakes()))
    assert err.value.reason == "AUTHORIZATION_VOIDED" and store.authorizations == {}
    assert processor.holds == {request.checkout_id: "voided"} and [op for op, _ in processor.calls][-1] == "void"
    with pytest.raises(FailedPrecondition):  # a retry is refused the same way
        await handlers.authorize_payment(request, deps)
    assert processor.holds == {request.checkout_id: "voided"}


async def test_unknown_authorizations_are_not_found(world):
    _, _, deps = world
    for use_case in (handlers.get_authorization, handlers.capture_payment):
        with pytest.raises(NotFound) as err:
            await use_case(uuid.uuid4(), deps)
        assert err.value.reason == "AUTHORIZATION_NOT_FOUND"
