"""The partner booking pipeline's ports in memory: the other contexts, and the partners unit of work
(bookings, volumes, idempotency keys, outbox). Each records its calls in `world.calls`; a call named
in `world.failing` raises that error instead (`world.failing_once` only the first time)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from services.chassis.saga import SagaRunner
from services.partners import handlers
from services.partners.domain import Basis, CommissionPlan, Partner, PartnerBooking
from services.partners.pipeline import PipelinePorts, partner_booking_saga
from services.partners.ports import EarlierRequest, ReservationInfo
from tests.unit.saga_fakes import InMemorySagaStore, ManualClock, Sagas

PRICE = Decimal("149.99")


@dataclass
class World:
    calls: list[str] = field(default_factory=list)
    failing: dict[str, BaseException] = field(default_factory=dict)
    failing_once: dict[str, BaseException] = field(default_factory=dict)
    keys: dict[tuple, EarlierRequest] = field(default_factory=dict)
    bookings: dict[uuid.UUID, PartnerBooking] = field(default_factory=dict)
    volume: dict[uuid.UUID, Decimal] = field(default_factory=dict)  # booking -> gross, this month
    events: list = field(default_factory=list)
    payouts: list[tuple[Decimal, str]] = field(default_factory=list)

    def call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing_once:
            raise self.failing_once.pop(name)
        if name in self.failing:
            raise self.failing[name]


class Guests:
    def __init__(self, world: World) -> None:
        self.world = world

    async def ensure_eligible(self, guest_id: str, first_name: str, last_name: str, email: str) -> None:
        self.world.call("guests.ensure_eligible")


class Desk:
    def __init__(self, world: World) -> None:
        self.world = world

    async def create(self, reservation_id, guest_id, trip_id, day, party_size) -> ReservationInfo:
        self.world.call("reservations.create")
        return ReservationInfo(reservation_id, "CODE12345678", "pending", PRICE * party_size, "USD")

    async def confirm(self, reservation_id):
        self.world.call("reservations.confirm")

    async def cancel(self, reservation_id, reason) -> None:
        self.world.call("reservations.cancel")


class Ledger:
    def __init__(self, world: World) -> None:
        self.world = world

    async def process(self, record_id, partner_id, booking_id, reservation_id, amount, currency) -> None:
        self.world.call("ledger.process")
        self.world.payouts.append((amount, currency))

    async def reverse(self, record_id, reason) -> None:
        self.world.call("ledger.reverse")


class Volumes:
    def __init__(self, world: World) -> None:
        self.world = world

    async def take(self, booking_id, partner_id, month, gross):
        self.world.call("volumes.take")
        self.world.volume.setdefault(booking_id, gross)
        return len(self.world.volume), sum(self.world.volume.values(), Decimal(0))

    async def give_back(self, booking_id) -> None:
        self.world.call("volumes.give_back")
        self.world.volume.pop(booking_id, None)


class Bookings:
    def __init__(self, world: World) -> None:
        self.world = world

    async def add(self, booking: PartnerBooking, now) -> bool:
        self.world.call("bookings.add")
        return self.world.bookings.setdefault(booking.booking_id, booking) is booking


class Keys:
    def __init__(self, world: World) -> None:
        self.world = world

    async def claim(self, partner_id, key, request_hash, now, expires) -> EarlierRequest | None:
        earlier = self.world.keys.get((partner_id, key))
        self.world.keys.setdefault((partner_id, key), EarlierRequest(request_hash, in_flight=True))
        return earlier

    async def complete(self, partner_id, key, booking: PartnerBooking) -> None:
        self.world.call("keys.complete")
        self._settle(partner_id, key, booking=booking)

    async def refuse(self, partner_id, key, error: dict) -> None:
        self.world.call("keys.refuse")
        self._settle(partner_id, key, error=error)

    async def release(self, partner_id, key) -> None:
        self.world.call("keys.release")
        self.world.keys.pop((partner_id, key), None)

    def _settle(self, partner_id, key, **answer) -> None:
        claimed = self.world.keys[(partner_id, key)]
        self.world.keys[(partner_id, key)] = EarlierRequest(claimed.request_hash, in_flight=False, **answer)


class Uow:
    def __init__(self, world: World, store: InMemorySagaStore, autocommit: bool = False, read_only: bool = False):
        self.world = world
        self.volumes, self.bookings, self.idempotency = Volumes(world), Bookings(world), Keys(world)
        self.sagas = Sagas(store)

    def publish(self, event, occurred) -> None:
        self.world.events.append(event)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


@dataclass
class Pipeline:
    """The booking handler on the chassis runner, over an in-memory saga store and the fakes."""

    world: World = field(default_factory=World)
    store: InMemorySagaStore = field(default_factory=InMemorySagaStore)
    clock: ManualClock = field(default_factory=ManualClock)

    def __post_init__(self) -> None:
        w = self.world
        uow = functools.partial(Uow, w, self.store)
        saga = partner_booking_saga(PipelinePorts(uow, Guests(w), Desk(w), Ledger(w)))
        self.runner = SagaRunner(self.store, {saga.name: saga}, clock=self.clock, retry_backoff_s=0)
        self.deps = handlers.Deps(uow=uow, sagas=self.runner, reservations=None, ledger=None, pepper=b"p")
        self.partner = Partner(
            uuid.uuid4(),
            "OTA",
            "ops@ota.example",
            "",
            "secret",
            CommissionPlan.parse(Basis.BOOKING_COUNT, [("0", "0.10"), ("2", "0.12")]),
            "0123456789ab",
            "digest",
            self.clock(),
        )

    async def book(self, key: str = "k-1", party_size: int = 2) -> PartnerBooking:
        cmd = handlers.NewBooking(
            key, f"hash-{party_size}", uuid.uuid4(), "Ada", "Lovelace", "ada@example.com", uuid.uuid4(),
            self.clock().date(), party_size, "OTA-1",
        )  # fmt: skip
        return await handlers.create_booking(cmd, self.partner, self.deps)
