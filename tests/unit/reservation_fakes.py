"""In-memory fakes of the reservation ports: unit of work, repository, guests, seats, release queue.
Each behaves as the adapter it stands for (what it raises, what it swallows, what it keeps)."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from services.chassis.errors import FailedPrecondition, Unavailable
from services.reservations.ports import DuplicateRequest, Hold


@dataclass
class Queued:
    trip_id: uuid.UUID
    due: bool  # an announced hold is not due until its grace period ends
    attempts: int = 0
    claimed: bool = False  # a drain is releasing it


def _due_now(releases: dict, reservation_id, day, trip_id) -> None:
    """As db.due_now: queued, or made due now, and a drain's claim on it voided."""
    row = releases.setdefault((reservation_id, day), Queued(trip_id, True))
    row.due, row.claimed = True, False


@dataclass
class Store:
    reservations: dict = field(default_factory=dict)
    fingerprints: dict = field(default_factory=dict)
    participants: list = field(default_factory=list)
    history: list = field(default_factory=list)
    releases: dict = field(default_factory=dict)  # (reservation_id, day) -> Queued, as seat_releases
    events: list = field(default_factory=list)
    fail_commit: bool = False
    lose_commit_answer: bool = False  # a write commits, then the connection is lost before the answer


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
        self.s.releases.pop((r.reservation_id, r.trip_date), None)  # that day's only, as CREATE

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
        if release_day is not None:
            _due_now(self.s.releases, r.reservation_id, release_day, r.trip_id)
        return True

    async def participants(self, reservation_id):
        return [p for p in self.s.participants if p.reservation_id == reservation_id]

    async def add_participant(self, p):
        self.s.participants.append(p)

    async def move(self, r, moved_from):
        await self.save(r)
        self.s.releases.pop((r.reservation_id, r.trip_date), None)
        _due_now(self.s.releases, r.reservation_id, moved_from, r.trip_id)


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
            wrote = self.work != self.store
            self.store.__dict__.update(self.work.__dict__)
            if wrote and self.store.lose_commit_answer:
                raise ConnectionError("connection lost before the commit was acknowledged")


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


class FakeReleaseQueue:
    """As releases.SeatReleaser (with no wait for a release in progress): release_now never raises,
    keeps what failed, and spares a reservation that lives on that trip and day."""

    def __init__(self, store: Store, seats: FakeSeats) -> None:
        self.store, self.seats = store, seats

    async def announce(self, trip_id, day, reservation_id) -> bool:
        earlier = self.store.releases.get((reservation_id, day))
        if earlier and earlier.claimed:
            raise Unavailable("the seats of this reservation are being released", reason="SEAT_RELEASE_IN_PROGRESS")
        self.store.releases[(reservation_id, day)] = Queued(trip_id, False)
        return earlier is not None

    async def withdraw(self, reservation_id, day) -> None:
        self.store.releases.pop((reservation_id, day), None)

    async def due_now(self, trip_id, day, reservation_id) -> None:
        _due_now(self.store.releases, reservation_id, day, trip_id)

    async def release_now(self, reservation_id) -> None:
        for (rid, day), row in list(self.store.releases.items()):
            if rid != reservation_id or not row.due or row.claimed:
                continue
            r = self.store.reservations.get(rid)
            live = r is not None and r.status.value != "cancelled" and (r.trip_id, r.trip_date) == (row.trip_id, day)
            try:
                if not live:
                    await self.seats.release(row.trip_id, day, rid)
            except Exception:
                row.attempts += 1
                continue
            del self.store.releases[(rid, day)]
