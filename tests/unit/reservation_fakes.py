"""In-memory fakes of the reservation ports: unit of work, repository, guests, seats, releaser."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from services.chassis.errors import FailedPrecondition, Unavailable
from services.reservations.ports import DuplicateRequest, Hold


@dataclass
class Store:
    reservations: dict = field(default_factory=dict)
    fingerprints: dict = field(default_factory=dict)
    participants: list = field(default_factory=list)
    history: list = field(default_factory=list)
    releases: list = field(default_factory=list)
    events: list = field(default_factory=list)
    fail_commit: bool = False


class FakeRepo:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def create(self, r, fingerprint, lead, first, event):
        if r.reservation_id in self.s.fingerprints:
            raise DuplicateRequest()
        self.s.fingerprints[r.reservation_id] = fingerprint
        self.s.reservations[r.reservation_id] = r
        self.s.participants.append(lead)
        self.s.history.append(first)
        self.s.events.append(event)
        self.s.releases = [x for x in self.s.releases if x[0] != r.reservation_id]

    async def get(self, reservation_id, for_update=False):
        return self.s.reservations.get(reservation_id)

    async def by_code(self, code):
        return next((r for r in self.s.reservations.values() if r.confirmation_code == code), None)

    async def fingerprint(self, reservation_id):
        return self.s.fingerprints.get(reservation_id)

    async def save(self, r):
        self.s.reservations[r.reservation_id] = r

    async def apply(self, change, event, release_day):
        r = change.reservation
        if self.s.reservations[r.reservation_id].rev != r.rev - 1:  # changed since it was read
            return False
        self.s.reservations[r.reservation_id] = r
        self.s.history.append(change)
        self.s.events.append(event)
        if release_day is not None and (r.reservation_id, release_day) not in self.s.releases:
            self.s.releases.append((r.reservation_id, release_day))
        return True

    async def participants(self, reservation_id):
        return [p for p in self.s.participants if p.reservation_id == reservation_id]

    async def add_participant(self, p):
        self.s.participants.append(p)

    async def withdraw_release(self, reservation_id, day):
        self.s.releases = [x for x in self.s.releases if x != (reservation_id, day)]

    async def queue_release(self, r, day, now):
        self.s.releases.append((r.reservation_id, day))


class FakeUow:
    """Applies changes on a copy and publishes it on commit, so a failure leaves nothing behind."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __aenter__(self):
        self.work = copy.deepcopy(self.store)
        self.reservations = FakeRepo(self.work)
        self.pending = []
        return self

    def publish(self, event, occurred):
        self.pending.append(event)

    def event_row(self, event, occurred):
        return event  # the fake repository keeps the event itself

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is None:
            if self.store.fail_commit:
                raise ConnectionError("database went away")
            self.work.events += self.pending
            self.store.__dict__.update(self.work.__dict__)


class FakeGuests:
    def __init__(self) -> None:
        self.ineligible, self.down = set(), False

    async def ensure_eligible(self, guest_id):
        if self.down:
            raise Unavailable("guest-profiles is unavailable")
        if guest_id in self.ineligible:
            raise FailedPrecondition("not eligible", reason="GUEST_NOT_ELIGIBLE")


class FakeSeats:
    def __init__(self, capacity: int = 10) -> None:
        self.capacity, self.holds, self.down = capacity, {}, False
        self.crash_after_hold = False  # takes the hold, then goes down before answering

    async def hold(self, trip_id, day, reservation_id, seats):
        if self.down:
            raise Unavailable("trip-catalog is unavailable")
        others = sum(n for (t, d, r), n in self.holds.items() if (t, d) == (trip_id, day) and r != reservation_id)
        if others + seats > self.capacity:
            raise FailedPrecondition("sold out", reason="SOLD_OUT")
        self.holds[(trip_id, day, reservation_id)] = seats
        if self.crash_after_hold:
            self.down = True
            raise Unavailable("trip-catalog is unavailable (connection reset)")
        return Hold(Decimal("99.95"), "USD")

    async def release(self, trip_id, day, reservation_id):
        if self.down:
            raise Unavailable("trip-catalog is unavailable")
        self.holds.pop((trip_id, day, reservation_id), None)

    def held(self, trip_id, day) -> int:
        return sum(n for (t, d, _), n in self.holds.items() if (t, d) == (trip_id, day))


class FakeReleaser:
    def __init__(self, store: Store, seats: FakeSeats) -> None:
        self.store, self.seats, self.trips = store, seats, {}

    async def announce(self, trip_id, day, reservation_id) -> None:
        await self.withdraw(reservation_id, day)
        self.store.releases.append((reservation_id, day))
        self.trips[reservation_id] = trip_id

    async def release_announced(self, trip_id, day, reservation_id) -> None:
        await self.seats.release(trip_id, day, reservation_id)  # when it fails, the announcement stays
        await self.withdraw(reservation_id, day)

    async def withdraw(self, reservation_id, day=None) -> None:
        self.store.releases = [x for x in self.store.releases if x[0] != reservation_id or day not in (None, x[1])]

    async def release_now(self, reservation_id: uuid.UUID) -> None:
        for rid, day in [x for x in self.store.releases if x[0] == reservation_id]:
            try:
                r = self.store.reservations.get(rid)
                await self.seats.release(r.trip_id if r else self.trips[rid], day, rid)
            except Unavailable:
                continue
            self.store.releases.remove((rid, day))
