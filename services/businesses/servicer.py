"""BusinessService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from novatrek.businesses.v1 import businesses_pb2 as pb
from novatrek.businesses.v1 import businesses_pb2_grpc

from services.businesses import commands, handlers
from services.businesses.domain import FULL_NAME_MAX, NAME_MAX, CompanyKind, normalize_email
from services.businesses.protomap import KIND_FROM_PB, KIND_TO_PB, company_to_pb, customer_to_pb
from services.chassis.errors import Violations
from services.chassis.limits import EMAIL_MAX, EMAIL_RULE, is_email
from services.chassis.money import CURRENCY_MINOR_UNITS
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import page_size, parse_uuid
from services.chassis.text import text

_KINDS = ", ".join(pb.CompanyKind.Name(k) for k in KIND_TO_PB.values())


def _kind(value: int, v: Violations) -> CompanyKind:
    v.check(value in KIND_FROM_PB, "kind", f"must be one of {_KINDS}")
    return KIND_FROM_PB.get(value, CompanyKind.PARTNER_BUSINESS)  # a refused kind is never used


def _currency(value: str, v: Violations) -> str:
    v.check(value in CURRENCY_MINOR_UNITS, "currency", "unknown or unsupported ISO 4217 currency")
    return value


def _email(value: str, v: Violations) -> str:
    email = text(value, "email", v, EMAIL_MAX)
    v.check(not email or is_email(email), "email", EMAIL_RULE)
    return normalize_email(email)


class BusinessServicer(businesses_pb2_grpc.BusinessServiceServicer):
    def __init__(self, deps: handlers.Deps, tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, tokens

    async def CreateCompany(self, request, context):
        v = Violations()
        cmd = commands.CreateCompany(
            parse_uuid(request.request_id, "request_id", v),
            text(request.name, "name", v, NAME_MAX),
            _kind(request.kind, v),
            _currency(request.currency, v),
        )
        v.raise_if_any()
        return pb.CreateCompanyResponse(company=company_to_pb(await handlers.create_company(cmd, self.deps)))

    async def GetCompany(self, request, context):
        v = Violations()
        company_id = parse_uuid(request.company_id, "company_id", v)
        v.raise_if_any()
        return pb.GetCompanyResponse(company=company_to_pb(await handlers.get_company(company_id, self.deps)))

    async def ListCompanies(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        position = self.tokens.decode(request.page_token, {"list": "companies"}, v)
        v.raise_if_any()
        found, after = await handlers.list_companies(commands.ListCompanies(position, limit), self.deps)
        token = self.tokens.encode(after, {"list": "companies"}) if after else ""
        return pb.ListCompaniesResponse(companies=[company_to_pb(c) for c in found], next_page_token=token)

    async def RegisterCustomer(self, request, context):
        v = Violations()
        cmd = commands.RegisterCustomer(
            parse_uuid(request.company_id, "company_id", v),
            _email(request.email, v),
            text(request.full_name, "full_name", v, FULL_NAME_MAX),
            parse_uuid(request.user_id, "user_id", v, required=False),
            parse_uuid(request.guest_id, "guest_id", v, required=False),
        )
        v.raise_if_any()
        customer = await handlers.register_customer(cmd, self.deps)
        return pb.RegisterCustomerResponse(customer=customer_to_pb(customer))

    async def GetCustomer(self, request, context):
        v = Violations()
        q = commands.GetCustomer(
            parse_uuid(request.customer_id, "customer_id", v),
            parse_uuid(request.company_id, "company_id", v, required=False),
        )
        v.raise_if_any()
        return pb.GetCustomerResponse(customer=customer_to_pb(await handlers.get_customer(q, self.deps)))

    async def ListCustomers(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        company_id = parse_uuid(request.company_id, "company_id", v)
        filters = {"list": "customers", "company_id": str(company_id)}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        q = commands.ListCustomers(company_id, position, limit)
        found, after = await handlers.list_customers(q, self.deps)
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListCustomersResponse(customers=[customer_to_pb(c) for c in found], next_page_token=token)

    async def ResolveCustomer(self, request, context):
        v = Violations()
        company_id = parse_uuid(request.company_id, "company_id", v)
        user_id = parse_uuid(request.user_id, "user_id", v)
        v.raise_if_any()
        customer = await handlers.resolve_customer(company_id, user_id, self.deps)
        return pb.ResolveCustomerResponse(customer=customer_to_pb(customer))
