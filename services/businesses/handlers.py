"""Businesses use cases: (command, deps) -> result. Every call is one statement, two when a racing
twin committed between its snapshot and its write (the statement is run again), and a registration
with a guest link asks guest-profiles first, with no transaction open."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.businesses.commands import CreateCompany, GetCustomer, ListCompanies, ListCustomers, RegisterCustomer
from services.businesses.domain import Company, Customer, company_not_found, customer_not_found
from services.businesses.ports import Guests
from services.chassis.errors import Aborted
from services.chassis.pagination import Position, page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory

ATTEMPTS = 3  # a twin can win the race once: a second run of the statement sees its row


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # BusinessUnitOfWork, or an in-memory fake in unit tests
    guests: Guests
    clock: Callable[[], datetime] = field(default=utcnow)


def _raced(what: str) -> Aborted:
    return Aborted(f"{what} kept changing under concurrent requests; retry", reason="CONCURRENT_CHANGE")


async def create_company(cmd: CreateCompany, deps: Deps) -> Company:
    company = Company(uuid.uuid4(), cmd.request_id, cmd.name, cmd.kind, cmd.currency, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        for _ in range(ATTEMPTS):
            if (stored := await uow.companies.create(company)) is not None:
                return stored.answering(cmd.name, cmd.kind, cmd.currency)
    raise _raced(f"company request {cmd.request_id}")


async def get_company(company_id: uuid.UUID, deps: Deps) -> Company:
    async with deps.uow(read_only=True) as uow:
        found = await uow.companies.get(company_id)
    if found is None:
        raise company_not_found(company_id)
    return found


async def list_companies(q: ListCompanies, deps: Deps) -> tuple[list[Company], Position | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.companies.page(q.position, q.limit)
    return page_of(rows, q.limit, lambda c: [c.created_at.isoformat(), str(c.company_id)])


async def register_customer(cmd: RegisterCustomer, deps: Deps) -> Customer:
    """Idempotent per company and e-mail; links the user and guest given where none is (see db.py)."""
    if cmd.guest_id is not None:
        await deps.guests.ensure_exists(cmd.guest_id)  # refused: nothing is stored
    new = Customer(uuid.uuid4(), cmd.company_id, cmd.email, cmd.full_name, cmd.user_id, cmd.guest_id, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        for _ in range(ATTEMPTS):
            if (stored := await uow.customers.register(new)) is not None:
                return stored.answering(cmd.user_id, cmd.guest_id)
    raise _raced(f"customer {cmd.email} of company {cmd.company_id}")


async def get_customer(q: GetCustomer, deps: Deps) -> Customer:
    async with deps.uow(read_only=True) as uow:
        found = await uow.customers.get(q.customer_id)
    if found is None or q.company_id not in (None, found.company_id):
        raise customer_not_found(f"customer {q.customer_id} does not exist")
    return found


async def list_customers(q: ListCustomers, deps: Deps) -> tuple[list[Customer], Position | None]:
    """An unknown company has no customers (an empty page, no second statement to tell it apart)."""
    async with deps.uow(read_only=True) as uow:
        rows = await uow.customers.page(q.company_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda c: [c.created_at.isoformat(), str(c.customer_id)])


async def resolve_customer(company_id: uuid.UUID, user_id: uuid.UUID, deps: Deps) -> Customer:
    async with deps.uow(read_only=True) as uow:
        found = await uow.customers.of_user(company_id, user_id)
    if found is None:
        raise customer_not_found(f"no customer of company {company_id} is linked to user {user_id}")
    return found
