"""Typed async client of businesses."""

from __future__ import annotations

from novatrek.businesses.v1 import businesses_pb2 as pb
from novatrek.businesses.v1 import businesses_pb2_grpc

from clients.channel import TypedClient

SERVICE = pb.DESCRIPTOR.services_by_name["BusinessService"].full_name
# Companies are keyed by request_id and customers by company + e-mail: every method may be retried.
IDEMPOTENT = [
    "CreateCompany",
    "GetCompany",
    "ListCompanies",
    "RegisterCustomer",
    "GetCustomer",
    "ListCustomers",
    "ResolveCustomer",
]


class BusinessesClient(TypedClient):
    dependency, service, stub_class = "businesses", SERVICE, businesses_pb2_grpc.BusinessServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def create_company(
        self, request_id: str, name: str, kind: pb.CompanyKind.ValueType, currency: str
    ) -> pb.Company:
        request = pb.CreateCompanyRequest(request_id=request_id, name=name, kind=kind, currency=currency)
        response: pb.CreateCompanyResponse = await self._call(self.stub.CreateCompany, request)
        return response.company

    async def company(self, company_id: str) -> pb.Company:
        """NOT_FOUND COMPANY_NOT_FOUND (NotFound) when unknown; its `currency` is every price's."""
        response: pb.GetCompanyResponse = await self._call(
            self.stub.GetCompany, pb.GetCompanyRequest(company_id=company_id)
        )
        return response.company

    async def register_customer(
        self, company_id: str, email: str, full_name: str, user_id: str = "", guest_id: str = ""
    ) -> pb.Customer:
        """The customer of that company and e-mail (made, or found and linked); AlreadyExists
        CUSTOMER_LINKED_TO_OTHER_USER / USER_LINKED_TO_OTHER_CUSTOMER, FailedPrecondition GUEST_NOT_FOUND."""
        request = pb.RegisterCustomerRequest(
            company_id=company_id, email=email, full_name=full_name, user_id=user_id, guest_id=guest_id
        )
        response: pb.RegisterCustomerResponse = await self._call(self.stub.RegisterCustomer, request)
        return response.customer

    async def customer(self, customer_id: str, company_id: str = "") -> pb.Customer:
        """NOT_FOUND CUSTOMER_NOT_FOUND when unknown, or not `company_id`'s when that is given."""
        request = pb.GetCustomerRequest(customer_id=customer_id, company_id=company_id)
        response: pb.GetCustomerResponse = await self._call(self.stub.GetCustomer, request)
        return response.customer

    async def resolve_customer(self, company_id: str, user_id: str) -> pb.Customer:
        """The company's customer linked to the platform user; NotFound CUSTOMER_NOT_FOUND otherwise."""
        request = pb.ResolveCustomerRequest(company_id=company_id, user_id=user_id)
        response: pb.ResolveCustomerResponse = await self._call(self.stub.ResolveCustomer, request)
        return response.customer
