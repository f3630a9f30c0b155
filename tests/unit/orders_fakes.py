"""In-memory fakes of the order ports: a unit of work over a store with the schema's constraints and
the revision check of the APPLY statement."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    orders: dict = field(default_factory=dict)
    tombstones: set = field(default_factory=set)  # order ids cancelled before they were placed
    events: list = field(default_factory=list)
    # One is called before each change is applied (first in, first used): a concurrent writer that
    # wins the race there.
    before_apply: list = field(default_factory=list)


class FakeOrders:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def create(self, order, event) -> bool:
        if (
            order.order_id in self.s.tombstones
            or order.order_id in self.s.orders
            or any(o.checkout_id == order.checkout_id for o in self.s.orders.values())
        ):
            return False  # ON CONFLICT DO NOTHING: nothing is written
        self.s.orders[order.order_id] = order
        self.s.events.append(event)
        return True

    async def get(self, order_id):
        return self.s.orders.get(order_id)

    async def tombstone(self, order_id, now) -> bool:
        if order_id in self.s.orders:
            return False
        self.s.tombstones.add(order_id)
        return True

    async def apply(self, order, event) -> bool:
        if self.s.before_apply:
            self.s.before_apply.pop(0)(self.s)
        if self.s.orders[order.order_id].rev != order.rev - 1:  # changed since it was read
            return False
        self.s.orders[order.order_id] = order
        self.s.events.append(event)
        return True

    async def of_guest(self, guest_id, position, limit):
        mine = [o for o in self.s.orders.values() if o.guest_id == guest_id]
        return newest_first(mine, lambda o: o.created_at, lambda o: o.order_id, position, limit)


class FakeOrderUnitOfWork(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.orders = FakeOrders(store)

    def event_row(self, event, occurred):
        return event  # the fake repository keeps the event itself
