"""Repositories and the unit of work over db.py's statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.businesses.db import (
    COMPANY_PAGE,
    COMPANY_PAGE_AFTER,
    CREATE_COMPANY,
    CUSTOMER_PAGE,
    CUSTOMER_PAGE_AFTER,
    GET_COMPANY,
    GET_CUSTOMER,
    REGISTER_CUSTOMER,
    RESOLVE_CUSTOMER,
)
from services.businesses.domain import Company, CompanyKind, Customer, company_not_found, user_taken
from services.chassis.db import UnitOfWork, page_params

_UNIQUE_VIOLATION, _FOREIGN_KEY_VIOLATION = "23505", "23503"


def _company(row) -> Company:
    m = row._mapping
    return Company(m["company_id"], m["request_id"], m["name"], CompanyKind(m["kind"]), m["currency"], m["created_at"])


def _customer(row) -> Customer:
    m = row._mapping
    return Customer(
        m["customer_id"], m["company_id"], m["email"], m["full_name"], m["user_id"], m["guest_id"], m["created_at"]
    )


class CompanyRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def create(self, c: Company) -> Company | None:
        """The company stored under c.request_id (c itself when this call made it); None when a twin
        committed it while the statement ran (run it again)."""
        params = {
            "c_company": c.company_id,
            "c_request": c.request_id,
            "c_name": c.name,
            "c_kind": c.kind.value,
            "c_currency": c.currency,
            "c_now": c.created_at,
        }
        row = (await self.conn.execute(CREATE_COMPANY, params)).first()
        return _company(row) if row else None

    async def get(self, company_id: uuid.UUID) -> Company | None:
        row = (await self.conn.execute(GET_COMPANY, {"g_company": company_id})).first()
        return _company(row) if row else None

    async def page(self, position: list[Any] | None, limit: int) -> list[Company]:
        statement = COMPANY_PAGE if position is None else COMPANY_PAGE_AFTER
        return [_company(row) for row in await self.conn.execute(statement, page_params(position, limit))]


class CustomerRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def register(self, c: Customer) -> Customer | None:
        """The customer of c's company and e-mail, with c's user and guest linked where it had none
        and nothing conflicts; None when a twin committed it while the statement ran (run it again).
        Raises COMPANY_NOT_FOUND, or USER_LINKED_TO_OTHER_CUSTOMER when the user is another's."""
        params = {
            "r_customer": c.customer_id,
            "r_company": c.company_id,
            "r_email": c.email,
            "r_full_name": c.full_name,
            "r_user": c.user_id,
            "r_guest": c.guest_id,
            "r_now": c.created_at,
        }
        try:
            row = (await self.conn.execute(REGISTER_CUSTOMER, params)).first()
        except IntegrityError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state == _FOREIGN_KEY_VIOLATION:  # the only foreign key: the company
                raise company_not_found(c.company_id) from exc
            if state == _UNIQUE_VIOLATION and c.user_id is not None:  # the e-mail's key is the arbiter
                raise user_taken(c.company_id, c.user_id) from exc
            raise
        return _customer(row) if row else None

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        row = (await self.conn.execute(GET_CUSTOMER, {"g_customer": customer_id})).first()
        return _customer(row) if row else None

    async def of_user(self, company_id: uuid.UUID, user_id: uuid.UUID) -> Customer | None:
        row = (await self.conn.execute(RESOLVE_CUSTOMER, {"g_company": company_id, "g_user": user_id})).first()
        return _customer(row) if row else None

    async def page(self, company_id: uuid.UUID, position: list[Any] | None, limit: int) -> list[Customer]:
        statement = CUSTOMER_PAGE if position is None else CUSTOMER_PAGE_AFTER
        params = {"page_company": company_id, **page_params(position, limit)}
        return [_customer(row) for row in await self.conn.execute(statement, params)]


class BusinessUnitOfWork(UnitOfWork):
    companies: CompanyRepository
    customers: CustomerRepository

    def bind(self, conn) -> None:
        self.companies = CompanyRepository(conn)
        self.customers = CustomerRepository(conn)
