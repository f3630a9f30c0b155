"""In-memory fakes of the inventory unit of work: the same answers as db.py's statements."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from services.inventory.domain import Status, Stock, StockReservation
from services.inventory.ports import DuplicateReservation, ReserveOutcome
from tests.unit.fakes import FakeUnitOfWork


@dataclass
class Store:
    stock: dict = field(default_factory=dict)  # sku -> Stock
    reservations: dict = field(default_factory=dict)  # checkout_id -> StockReservation
    twin_first: bool = False  # a concurrent twin writes the reservation between our look and our write


class FakeStock:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def get(self, sku):
        return self.s.stock.get(sku)

    async def set_level(self, sku, name, on_hand, now):
        known = self.s.stock.get(sku)
        if (known is None and not name) or (known is not None and known.reserved > on_hand):
            return None
        self.s.stock[sku] = Stock(sku, name or known.name, on_hand, known.reserved if known else 0)
        return self.s.stock[sku]

    def move(self, lines, reserved: int, on_hand: int = 0) -> None:
        for line in lines:
            s = self.s.stock[line.sku]
            self.s.stock[line.sku] = replace(
                s, reserved=s.reserved + reserved * line.quantity, on_hand=s.on_hand + on_hand * line.quantity
            )


class FakeReservations:
    def __init__(self, store: Store, stock: FakeStock) -> None:
        self.s, self.stock = store, stock

    async def reserve(self, r):
        if self.s.twin_first:
            self.s.twin_first = False
            self.s.reservations[r.checkout_id] = r
            self.stock.move(r.lines, +1)
            raise DuplicateReservation()
        if r.checkout_id in self.s.reservations:
            return ReserveOutcome(False, True, {})
        available = {line.sku: s.available if (s := self.s.stock.get(line.sku)) else None for line in r.lines}
        taken = all(available[line.sku] is not None and available[line.sku] >= line.quantity for line in r.lines)
        if taken:
            self.s.reservations[r.checkout_id] = r
            self.stock.move(r.lines, +1)
        return ReserveOutcome(taken, False, available)

    async def get(self, checkout_id):
        return self.s.reservations.get(checkout_id)

    async def settle(self, checkout_id, to, now):
        r = self.s.reservations.get(checkout_id)
        live = to is not Status.COMMITTED or r is None or r.expire_time > now or r.order_id is not None
        if r is None or r.status is not Status.RESERVED or not live:
            return r
        self.stock.move(r.lines, -1, -1 if to is Status.COMMITTED else 0)
        self.s.reservations[checkout_id] = replace(r, status=to)
        return self.s.reservations[checkout_id]

    async def hold(self, checkout_id, order_id, now):
        r = self.s.reservations.get(checkout_id)
        if r is None or r.status is not Status.RESERVED:
            return False
        self.s.reservations[checkout_id] = replace(r, order_id=order_id)
        return True

    async def tombstone(self, checkout_id, now):
        if checkout_id in self.s.reservations:
            return False
        self.s.reservations[checkout_id] = StockReservation(checkout_id, (), Status.RELEASED, 0, now, now)
        return True

    async def release_expired(self, now, batch):
        due = [
            r
            for r in self.s.reservations.values()
            if r.status is Status.RESERVED and r.order_id is None and r.expire_time <= now
        ]
        for r in sorted(due, key=lambda r: r.expire_time)[:batch]:
            await self.settle(r.checkout_id, Status.RELEASED, now)
        return min(len(due), batch)


class FakeInventoryUow(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.stock = FakeStock(store)
        self.reservations = FakeReservations(store, self.stock)
