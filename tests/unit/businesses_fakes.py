"""In-memory fakes of the businesses unit of work and of guest-profiles: the same answers as the
statements of db.py and the adapter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from services.businesses.domain import Company, Customer, company_not_found, guest_not_found, user_taken
from services.chassis.errors import Unavailable
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    companies: dict = field(default_factory=dict)  # company_id -> Company
    customers: dict = field(default_factory=dict)  # customer_id -> Customer
    races: int = 0  # statements that find a twin's row committed after their snapshot (answer None)


class FakeCompanies:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def create(self, c: Company) -> Company | None:
        if self.s.races:
            self.s.races -= 1
            twin = replace(c, company_id=uuid.uuid4())
            self.s.companies[twin.company_id] = twin
            return None
        stored = next((x for x in self.s.companies.values() if x.request_id == c.request_id), None)
        if stored is None:
            self.s.companies[c.company_id] = stored = c
        return stored

    async def get(self, company_id):
        return self.s.companies.get(company_id)

    async def page(self, position, limit):
        companies = self.s.companies.values()
        return newest_first(companies, lambda c: c.created_at, lambda c: c.company_id, position, limit)


class FakeCustomers:
    def __init__(self, store: Store) -> None:
        self.s = store

    def _of_user(self, company_id, user_id):
        mine = (c for c in self.s.customers.values() if c.company_id == company_id)
        return next((c for c in mine if user_id is not None and c.user_id == user_id), None)

    async def register(self, c: Customer) -> Customer | None:
        if c.company_id not in self.s.companies:
            raise company_not_found(c.company_id)
        if self.s.races:  # a twin without links stored the e-mail first
            self.s.races -= 1
            twin = replace(c, customer_id=uuid.uuid4(), user_id=None, guest_id=None)
            self.s.customers[twin.customer_id] = twin
            return None
        same = (x for x in self.s.customers.values() if (x.company_id, x.email) == (c.company_id, c.email))
        stored = next(same, None)
        if stored is None:
            if self._of_user(c.company_id, c.user_id):
                raise user_taken(c.company_id, c.user_id)
            self.s.customers[c.customer_id] = c
            return c
        compatible = all(
            mine is None or mine == theirs
            for mine, theirs in ((stored.user_id, c.user_id), (stored.guest_id, c.guest_id))
        )
        links = (stored.user_id is None and c.user_id) or (stored.guest_id is None and c.guest_id)
        if compatible and links:
            if stored.user_id is None and c.user_id is not None and self._of_user(c.company_id, c.user_id):
                raise user_taken(c.company_id, c.user_id)
            stored = replace(stored, user_id=stored.user_id or c.user_id, guest_id=stored.guest_id or c.guest_id)
            self.s.customers[stored.customer_id] = stored
        return stored

    async def get(self, customer_id):
        return self.s.customers.get(customer_id)

    async def of_user(self, company_id, user_id):
        return self._of_user(company_id, user_id)

    async def page(self, company_id, position, limit):
        mine = [c for c in self.s.customers.values() if c.company_id == company_id]
        return newest_first(mine, lambda c: c.created_at, lambda c: c.customer_id, position, limit)


class FakeBusinessUow(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.companies = FakeCompanies(store)
        self.customers = FakeCustomers(store)


@dataclass
class FakeGuests:
    known: set = field(default_factory=set)
    down: bool = False
    asked: list = field(default_factory=list)

    async def ensure_exists(self, guest_id: uuid.UUID) -> None:
        self.asked.append(guest_id)
        if self.down:
            raise Unavailable("guest-profiles is unavailable", metadata={"dependency": "guest-profiles"})
        if guest_id not in self.known:
            raise guest_not_found(guest_id)
