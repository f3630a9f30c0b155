"""Payment and commission use cases against in-memory fakes of the unit of work and the processor."""

import copy
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.chassis.errors import InvalidArgument, NotFound, Unavailable
from services.payments import commands, handlers
from services.payments.domain import PaymentStatus, PayoutStatus
from services.payments.ports import DuplicatePayment
from services.payments.processor import FakeProcessor
from tests.unit.test_payments_domain import charge_request, claim


@dataclass
class Store:
    payments: dict = field(default_factory=dict)
    payouts: dict = field(default_factory=dict)  # commission_record_id -> payout
    authorizations: dict = field(default_factory=dict)  # checkout_id -> authorization
    tombstones: set = field(default_factory=set)  # checkout_ids voided before any authorization was stored
    events: list = field(default_factory=list)


class FakePayments:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def add(self, p):
        if any(x.request.request_id == p.request.request_id for x in self.s.payments.values()):
            raise DuplicatePayment()
        self.s.payments[p.payment_id] = p

    async def get(self, payment_id):
        return self.s.payments.get(payment_id)

    async def by_request(self, request_id):
        return next((p for p in self.s.payments.values() if p.request.request_id == request_id), None)


class FakePayouts:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def add_or_lock(self, p):
        return self.s.payouts.setdefault(p.commission_record_id, p)

    async def save(self, p):
        self.s.payouts[p.commission_record_id] = p

    async def search(self, partner_id, status, position, limit):
        found = [
            p
            for p in self.s.payouts.values()
            if p.claim and (not partner_id or p.claim.partner_id == partner_id) and (not status or p.status is status)
        ]
        found.sort(key=lambda p: (p.created_at, str(p.payout_id)), reverse=True)
        if position:
            found = [p for p in found if (p.created_at.isoformat(), str(p.payout_id)) < tuple(position)]
        return found[: limit + 1]


class FakeAuthorizations:
    """Locks are no-ops: the unit tests run one use case at a time."""

    def __init__(self, store: Store) -> None:
        self.s = store

    async def add(self, a):
        if a.request.checkout_id in self.s.authorizations or a.request.checkout_id in self.s.tombstones:
            return None
        self.s.authorizations[a.request.checkout_id] = a
        return a

    async def add_tombstone(self, checkout_id, now):
        if checkout_id in self.s.authorizations or checkout_id in self.s.tombstones:
            return False
        self.s.tombstones.add(checkout_id)
        return True

    async def get(self, authorization_id, for_update=False):
        return next((a for a in self.s.authorizations.values() if a.authorization_id == authorization_id), None)

    async def by_checkout(self, checkout_id, for_update=False):
        return self.s.authorizations.get(checkout_id)

    async def save(self, a):
        self.s.authorizations[a.request.checkout_id] = a


class FakeUow:
    """Works on a copy and publishes it on commit, so a failure leaves nothing behind."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __aenter__(self):
        self.work = copy.deepcopy(self.store)
        self.payments, self.payouts, self.pending = FakePayments(self.work), FakePayouts(self.work), []
        self.authorizations = FakeAuthorizations(self.work)
        return self

    def publish(self, event, occurred):
        self.pending.append(event)

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.work.events += self.pending
            self.store.__dict__.update(self.work.__dict__)


class CountingProcessor(FakeProcessor):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def charge(self, request):
        self.calls += 1
        return await super().charge(request)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def world():
    store, processor = Store(), CountingProcessor()
    return store, processor, handlers.Deps(uow=lambda **_: FakeUow(store), processor=processor, clock=Clock())


async def test_a_payment_is_stored_and_announced_once(world):
    store, processor, deps = world
    request = charge_request()
    payment = await handlers.process_payment(request, deps)
    assert payment.status is PaymentStatus.SUCCEEDED and await handlers.get_payment(payment.payment_id, deps) == payment
    assert await handlers.process_payment(request, deps) == payment
    assert processor.calls == 1 and len(store.payments) == 1
    [event] = store.events
    assert (event.payment_id, event.reservation_id, event.status) == (
        str(payment.payment_id),
        str(request.reservation_id),
        1,
    )


async def test_a_decline_is_stored_and_announced_too(world):
    store, _, deps = world
    payment = await handlers.process_payment(charge_request("decline"), deps)
    assert (payment.status, payment.decline_reason) == (PaymentStatus.DECLINED, "insufficient_funds")
    assert list(store.payments.values()) == [payment] and len(store.events) == 1


async def test_a_processor_outage_writes_nothing(world):
    store, _, deps = world
    with pytest.raises(Unavailable) as err:
        await handlers.process_payment(charge_request("fail"), deps)
    assert err.value.reason == "PROCESSOR_UNAVAILABLE" and store.payments == {} and store.events == []


async def test_the_request_id_reused_for_another_payment_is_refused(world):
    _, _, deps = world
    request = charge_request()
    await handlers.process_payment(request, deps)
    with pytest.raises(InvalidArgument) as err:
        await handlers.process_payment(replace(request, amount=Decimal("99.00")), deps)
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_a_twin_that_stored_first_is_the_answer(world):
    store, _, deps = world
    request = charge_request()

    class TwinWinsRace(FakeProcessor):
        async def charge(self, r):  # the twin commits while we are at the processor
            await handlers.process_payment(r, replace(deps, processor=FakeProcessor()))
            return await super().charge(r)

    payment = await handlers.process_payment(request, replace(deps, processor=TwinWinsRace()))
    assert list(store.payments.values()) == [payment] and len(store.events) == 1


async def test_unknown_payment_is_not_found(world):
    with pytest.raises(NotFound) as err:
        await handlers.get_payment(uuid.uuid4(), world[2])
    assert err.value.reason == "PAYMENT_NOT_FOUND"


async def test_commission_is_owed_idempotently_then_reversed_idempotently(world):
    store, _, deps = world
    c = claim()
    payout = await handlers.process_commission(c, deps)
    assert payout.status is PayoutStatus.OWED and await handlers.process_commission(c, deps) == payout
    with pytest.raises(InvalidArgument) as err:
        await handlers.process_commission(replace(c, amount=Decimal("1.00")), deps)
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"
    reversed_ = await handlers.reverse_commission(c.commission_record_id, "cancelled", deps)
    assert (reversed_.payout_id, reversed_.status, reversed_.reversal_reason) == (
        payout.payout_id,
        PayoutStatus.REVERSED,
        "cancelled",
    )
    assert await handlers.reverse_commission(c.commission_record_id, "other reason", deps) == reversed_
    assert await handlers.process_commission(c, deps) == reversed_ and len(store.payouts) == 1


async def test_reverse_before_process_leaves_a_tombstone_the_late_process_honours(world):
    store, _, deps = world
    c = claim()
    assert await handlers.reverse_commission(c.commission_record_id, "cancelled early", deps) is None
    assert await handlers.reverse_commission(c.commission_record_id, "again", deps) is None
    payout = await handlers.process_commission(c, deps)
    assert (payout.claim, payout.status, payout.reversal_reason) == (c, PayoutStatus.REVERSED, "cancelled early")
    assert await handlers.process_commission(c, deps) == payout and len(store.payouts) == 1


async def test_payouts_page_newest_first_with_filters(world):
    _, _, deps = world
    partner = uuid.uuid4()
    made = [await handlers.process_commission(claim(partner_id=partner), deps) for _ in range(5)]
    await handlers.process_commission(claim(), deps)  # another partner's
    await handlers.reverse_commission(uuid.uuid4(), "", deps)  # a tombstone is no payout
    await handlers.reverse_commission(made[0].commission_record_id, "x", deps)
    pages, position = [], None
    while True:
        page, position = await handlers.list_payouts(commands.ListPayouts(partner, None, position, 2), deps)
        pages.append([p.payout_id for p in page])
        if position is None:
            break
    assert pages == [
        [made[4].payout_id, made[3].payout_id],
        [made[2].payout_id, made[1].payout_id],
        [made[0].payout_id],
    ]
    owed, _ = await handlers.list_payouts(commands.ListPayouts(partner, PayoutStatus.OWED, None, 25), deps)
    assert len(owed) == 4
    everything, _ = await handlers.list_payouts(commands.ListPayouts(None, None, None, 25), deps)
    assert len(everything) == 6
