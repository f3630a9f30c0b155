"""The checkout saga's ports in memory: inventory, payments and orders, and the checkout unit of work
(checkouts with their events). Each records its calls in `world.calls`; a call named in
`world.failing` raises that error instead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

from services.chassis.saga import SagaRunner
from services.checkout.checkout_saga import SagaPorts, checkout_saga
from services.checkout.domain import Cart, CartLine, Checkout, PaymentDeclined
from services.checkout.handlers import Deps
from services.checkout.outcomes import Outcomes
from tests.unit.saga_fakes import InMemorySagaStore, ManualClock, Sagas


@dataclass
class World:
    calls: list[str] = field(default_factory=list)
    failing: dict[str, BaseException] = field(default_factory=dict)
    checkouts: dict[uuid.UUID, Checkout] = field(default_factory=dict)
    events: list = field(default_factory=list)
    reserved: set[uuid.UUID] = field(default_factory=set)
    authorized: set[uuid.UUID] = field(default_factory=set)
    orders: set[uuid.UUID] = field(default_factory=set)

    def call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise self.failing[name]


class Inventory:
    def __init__(self, world: World) -> None:
        self.world = world

    async def reserve(self, checkout_id, lines, hold_s) -> None:
        self.world.call("inventory.reserve")
        self.world.reserved.add(checkout_id)

    async def release(self, checkout_id) -> None:
        self.world.call("inventory.release")
        self.world.reserved.discard(checkout_id)


class Payments:
    def __init__(self, world: World) -> None:
        self.world = world

    async def authorize(self, checkout_id, guest_id, amount, currency, token) -> str:
        self.world.authorized.add(checkout_id)  # the processor holds it even if the answer is lost
        self.world.call("payments.authorize")
        if token.startswith("decline"):
            raise PaymentDeclined("insufficient_funds")
        return f"auth-{checkout_id.hex[:8]}"

    async def void(self, checkout_id, reason) -> None:
        self.world.call("payments.void")
        self.world.authorized.discard(checkout_id)


class Orders:
    def __init__(self, world: World) -> None:
        self.world = world

    async def create(self, checkout_id, guest_id, lines, authorization_id) -> uuid.UUID:
        self.world.orders.add(checkout_id)
        self.world.call("orders.create")
        return uuid.uuid5(checkout_id, "order")

    async def cancel(self, checkout_id, reason) -> None:
        self.world.call("orders.cancel")
        self.world.orders.discard(checkout_id)


class Checkouts:
    def __init__(self, world: World) -> None:
        self.world = world

    async def start(self, c: Checkout) -> bool:
        self.world.call("checkouts.start")
        return self.world.checkouts.setdefault(c.checkout_id, c) is c

    async def get(self, checkout_id):
        return self.world.checkouts.get(checkout_id)

    async def settle(self, c: Checkout, event) -> bool:
        self.world.call("checkouts.settle")
        found = self.world.checkouts.get(c.checkout_id)
        if found is None or not found.running:
            return False
        self.world.checkouts[c.checkout_id] = c
        self.world.events.append(event)
        return True

    async def note_failure(self, checkout_id, reason, message) -> None:
        self.world.call("checkouts.note_failure")
        if (found := self.world.checkouts.get(checkout_id)) is not None:
            self.world.checkouts[checkout_id] = replace(found, failure_reason=reason, failure_message=message)

    async def abandon(self, checkout_id) -> bool:
        return self.world.checkouts.pop(checkout_id, None) is not None


class FakeUnitOfWork:
    def __init__(self, world: World, store: InMemorySagaStore) -> None:
        self.checkouts, self.sagas = Checkouts(world), Sagas(store)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    def event_row(self, event, occurred):
        return event


class InMemoryCheckout:
    """A checkout service in memory: the saga on an in-memory store, and its handlers' deps."""

    def __init__(self) -> None:
        self.world, self.clock, self.store = World(), ManualClock(), InMemorySagaStore()
        self.outcomes = Outcomes()
        ports = SagaPorts(
            lambda **_: FakeUnitOfWork(self.world, self.store),
            Inventory(self.world),
            Payments(self.world),
            Orders(self.world),
            self.outcomes.settle,
            self.clock,
        )
        self.saga = checkout_saga(ports)
        self.runner = SagaRunner(self.store, {self.saga.name: self.saga}, clock=self.clock, retry_backoff_s=0)
        self.deps = Deps(ports.uow, self.runner, self.outcomes, self.clock, wait_s=1.0)


def cart(token: str = "tok_visa", quantity: int = 1, guest: uuid.UUID | None = None) -> Cart:
    line = CartLine("SKU-1", "Trail pack", Decimal("19.90"), "EUR", quantity)
    return Cart(uuid.uuid4(), guest or uuid.uuid4(), (line,), token)
