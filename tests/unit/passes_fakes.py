"""In-memory fakes of the passes unit of work: the same answers as db.py's statements."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from services.passes.domain import Entitlement, PassProduct, Usage, UsageStatus
from services.passes.ports import DuplicateUsage
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    products: dict = field(default_factory=dict)  # product_id -> PassProduct
    product_requests: dict = field(default_factory=dict)  # request_id -> product_id
    entitlements: dict = field(default_factory=dict)  # entitlement_id -> Entitlement
    entitlement_requests: dict = field(default_factory=dict)  # request_id -> entitlement_id
    usages: dict = field(default_factory=dict)  # booking_id -> Usage
    twin_first: bool = False  # a twin of the booking writes its usage between our look and our write
    consume_first: bool = False  # a consume of the booking lands between a restore's look and its tombstone


class FakeProducts:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def create(self, p: PassProduct, request_id) -> bool:
        if request_id in self.s.product_requests:
            return False
        self.s.products[p.product_id], self.s.product_requests[request_id] = p, p.product_id
        return True

    async def get(self, product_id):
        return self.s.products.get(product_id)

    async def by_request(self, request_id):
        return self.s.products.get(self.s.product_requests.get(request_id))


class FakeEntitlements:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def issue(self, entitlement_id, request_id, product_id, customer_id, now):
        product = self.s.products.get(product_id)
        if product is None or request_id in self.s.entitlement_requests:
            return None
        e = Entitlement.issued(entitlement_id, product, customer_id, now)
        self.s.entitlements[entitlement_id], self.s.entitlement_requests[request_id] = e, entitlement_id
        return e

    async def get(self, entitlement_id):
        return self.s.entitlements.get(entitlement_id)

    async def by_request(self, request_id):
        return self.s.entitlements.get(self.s.entitlement_requests.get(request_id))

    async def of_customer(self, customer_id, company_id, position, limit):
        rows = [
            e
            for e in self.s.entitlements.values()
            if e.customer_id == customer_id and company_id in (None, e.company_id)
        ]
        return newest_first(rows, lambda e: e.created_at, lambda e: e.entitlement_id, position, limit)


class FakeUsages:
    def __init__(self, store: Store) -> None:
        self.s = store

    def _take(self, use, now) -> Entitlement:
        e = self.s.entitlements[use.entitlement_id]
        self.s.entitlements[e.entitlement_id] = e = replace(e, sessions_remaining=e.sessions_remaining - 1)
        self.s.usages[use.booking_id] = use.usage(now)
        return e

    async def consume(self, use, now):
        e = self.s.entitlements.get(use.entitlement_id)
        if self.s.twin_first:
            self.s.twin_first = False
            self._take(use, now)
            raise DuplicateUsage()
        fits = (
            e is not None
            and e.customer_id == use.customer_id
            and e.sessions_remaining > 0
            and e.expire_time > now
            and e.expire_time > use.session_start
            and e.covers(use.activity_id)
            and use.booking_id not in self.s.usages
        )
        return self._take(use, now) if fits else None

    async def restore(self, entitlement_id, booking_id, now):
        u, e = self.s.usages.get(booking_id), self.s.entitlements.get(entitlement_id)
        if u is None or e is None or u.entitlement_id != entitlement_id or u.status is not UsageStatus.CONSUMED:
            return None
        back = e.expire_time > now
        u = self.s.usages[booking_id] = replace(
            u, status=UsageStatus.RESTORED if back else UsageStatus.FORFEITED, restored_at=now
        )
        if back and e.sessions_remaining < e.sessions_total:
            e = self.s.entitlements[entitlement_id] = replace(e, sessions_remaining=e.sessions_remaining + 1)
        return e, u

    async def state(self, entitlement_id, booking_id):
        return self.s.entitlements.get(entitlement_id), self.s.usages.get(booking_id)

    async def tombstone(self, entitlement_id, booking_id, now):
        if self.s.consume_first:
            self.s.consume_first = False
            e = self.s.entitlements[entitlement_id]
            self.s.entitlements[entitlement_id] = replace(e, sessions_remaining=e.sessions_remaining - 1)
            self.s.usages[booking_id] = Usage(booking_id, entitlement_id, uuid.uuid4(), now, UsageStatus.CONSUMED, now)
            return None
        if booking_id in self.s.usages or entitlement_id not in self.s.entitlements:
            return None
        self.s.usages[booking_id] = Usage(booking_id, entitlement_id, None, None, UsageStatus.TOMBSTONE, now, now)
        return self.s.usages[booking_id]


class FakePassUow(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.products = FakeProducts(store)
        self.entitlements = FakeEntitlements(store)
        self.usages = FakeUsages(store)
