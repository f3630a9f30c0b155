"""businesses through gRPC on real PostgreSQL, with guest-profiles running: companies idempotent per
request_id and paged, customers idempotent per company + e-mail (also under a storm of twins), user
and guest links with their conflicts, resolution by user, and every bad field refused at once."""

from __future__ import annotations

import asyncio
import socket
import uuid

import grpc
import pytest
import sqlalchemy as sa
from novatrek.businesses.v1 import businesses_pb2 as pb
from novatrek.businesses.v1 import businesses_pb2_grpc
from sqlalchemy.ext.asyncio import create_async_engine

from clients.businesses import BusinessesClient
from services.businesses.config import BusinessSettings
from services.businesses.main import build
from services.chassis.errors import NotFound
from tests.helpers import fails
from tests.integration.booking import new_guest
from tests.integration.conftest import fresh_database, serve

BASE, PARTNER = pb.COMPANY_KIND_NOVATREK_BASE, pb.COMPANY_KIND_PARTNER_BUSINESS


@pytest.fixture
def stub(businesses_stub):
    return businesses_stub


@pytest.fixture(scope="module")
async def db(businesses_service):
    engine = create_async_engine(businesses_service.database_url)
    yield engine
    await engine.dispose()


async def customers_stored(db, company_id: str) -> int:
    async with db.connect() as conn:
        query = sa.text("SELECT count(*) FROM businesses.customers WHERE company_id = :c")
        return (await conn.execute(query, {"c": company_id})).scalar_one()


def company_request(name: str = "Fjord Base", kind=BASE, currency: str = "NOK", **extra) -> pb.CreateCompanyRequest:
    return pb.CreateCompanyRequest(
        request_id=extra.pop("request_id", str(uuid.uuid4())), name=name, kind=kind, currency=currency, **extra
    )


async def new_company(stub, currency: str = "EUR") -> str:
    return (await stub.CreateCompany(company_request(currency=currency))).company.company_id


def register(company_id: str, email: str, full_name: str = "Ada Lovelace", **links) -> pb.RegisterCustomerRequest:
    return pb.RegisterCustomerRequest(company_id=company_id, email=email, full_name=full_name, **links)


def unique_email(prefix: str = "ada") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.org"


async def test_create_get_and_replay_a_company(stub):
    request = company_request(name="  Lofoten Paddle Co.  ", kind=PARTNER, currency="NOK")
    made = (await stub.CreateCompany(request)).company
    assert (made.name, made.kind, made.currency) == ("Lofoten Paddle Co.", PARTNER, "NOK")
    assert uuid.UUID(made.company_id) and made.create_time.seconds > 0
    assert (await stub.CreateCompany(request)).company == made  # the same request_id: the same company
    assert (await stub.GetCompany(pb.GetCompanyRequest(company_id=made.company_id))).company == made

    reused = await fails(stub.CreateCompany(company_request(request_id=request.request_id, currency="EUR")))
    assert (reused.code, reused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "IDEMPOTENCY_KEY_REUSED")
    missing = await fails(stub.GetCompany(pb.GetCompanyRequest(company_id=str(uuid.uuid4()))))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")


async def test_twins_of_one_create_make_one_company(stub, db):
    request = company_request(name="Twin Base")
    made = await asyncio.gather(*(stub.CreateCompany(request) for _ in range(12)))
    assert len({m.company.company_id for m in made}) == 1
    async with db.connect() as conn:
        query = sa.text("SELECT count(*) FROM businesses.companies WHERE request_id = :r")
        assert (await conn.execute(query, {"r": request.request_id})).scalar_one() == 1


async def test_companies_page_newest_first(stub):
    mine = [await new_company(stub) for _ in range(5)]
    seen, token = [], ""
    while True:
        page = await stub.ListCompanies(pb.ListCompaniesRequest(page_size=2, page_token=token))
        assert len(page.companies) <= 2
        seen += [c.company_id for c in page.companies]
        if not (token := page.next_page_token):
            break
    assert len(seen) == len(set(seen))
    assert [c for c in seen if c in mine] == mine[::-1]
    forged = await fails(stub.ListCompanies(pb.ListCompaniesRequest(page_token="bm90LWEtdG9rZW4")))
    assert forged.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in forged.violations


async def test_register_is_idempotent_by_email_whatever_its_case(stub, db):
    company = await new_company(stub)
    email = unique_email("Grace")
    first = (await stub.RegisterCustomer(register(company, f"  {email.upper()} ", "Grace Hopper"))).customer
    assert (first.email, first.full_name, first.user_id, first.guest_id) == (email.lower(), "Grace Hopper", "", "")
    again = (await stub.RegisterCustomer(register(company, email, "G. Hopper"))).customer
    assert again == first  # the first registration's name is kept
    other = await new_company(stub)
    elsewhere = (await stub.RegisterCustomer(register(other, email))).customer
    assert elsewhere.customer_id != first.customer_id  # one customer per company
    got = await stub.GetCustomer(pb.GetCustomerRequest(customer_id=first.customer_id, company_id=company))
    assert got.customer == first
    wrong = await fails(stub.GetCustomer(pb.GetCustomerRequest(customer_id=first.customer_id, company_id=other)))
    assert (wrong.code, wrong.reason) == (grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND")
    assert await customers_stored(db, company) == 1


async def test_concurrent_registrations_of_one_email_make_one_customer(stub, db):
    company, email = await new_company(stub), unique_email()
    spellings = [email, email.upper(), email.title(), f" {email} "] * 5
    answers = await asyncio.gather(*(stub.RegisterCustomer(register(company, e)) for e in spellings))
    assert len({a.customer.customer_id for a in answers}) == 1
    assert await customers_stored(db, company) == 1


async def test_concurrent_links_of_one_email_link_one_user(stub):
    company, email = await new_company(stub), unique_email()
    users = [str(uuid.uuid4()) for _ in range(8)]
    calls = [stub.RegisterCustomer(register(company, email, user_id=u)) for u in users]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    won = [a.customer for a in answers if isinstance(a, pb.RegisterCustomerResponse)]
    lost = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == len(users) - 1
    assert all(e.code() == grpc.StatusCode.ALREADY_EXISTS for e in lost)
    assert (await stub.ResolveCustomer(pb.ResolveCustomerRequest(company_id=company, user_id=won[0].user_id))).customer


async def test_a_user_links_later_and_no_other_user_can(stub):
    company, email = await new_company(stub), unique_email()
    unlinked = (await stub.RegisterCustomer(register(company, email))).customer
    user = str(uuid.uuid4())
    linked = (await stub.RegisterCustomer(register(company, email, user_id=user))).customer
    assert (linked.customer_id, linked.user_id) == (unlinked.customer_id, user)
    assert (await stub.RegisterCustomer(register(company, email))).customer == linked  # no user: no unlink
    assert (await stub.RegisterCustomer(register(company, email, user_id=user))).customer == linked

    other = await fails(stub.RegisterCustomer(register(company, email, user_id=str(uuid.uuid4()))))
    assert (other.code, other.reason) == (grpc.StatusCode.ALREADY_EXISTS, "CUSTOMER_LINKED_TO_OTHER_USER")
    assert other.metadata["customer_id"] == linked.customer_id
    second = await fails(stub.RegisterCustomer(register(company, unique_email(), user_id=user)))
    assert (second.code, second.reason) == (grpc.StatusCode.ALREADY_EXISTS, "USER_LINKED_TO_OTHER_CUSTOMER")
    # the same user is a customer of another company too
    assert (await stub.RegisterCustomer(register(await new_company(stub), email, user_id=user))).customer.user_id


async def test_resolve_finds_the_customer_linked_to_a_user(stub):
    company, user = await new_company(stub), str(uuid.uuid4())
    customer = (await stub.RegisterCustomer(register(company, unique_email(), user_id=user))).customer
    resolved = (await stub.ResolveCustomer(pb.ResolveCustomerRequest(company_id=company, user_id=user))).customer
    assert resolved == customer
    for company_id, user_id in ((company, str(uuid.uuid4())), (await new_company(stub), user)):
        missing = await fails(stub.ResolveCustomer(pb.ResolveCustomerRequest(company_id=company_id, user_id=user_id)))
        assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND")


async def test_the_guest_link_is_checked_with_guest_profiles(stub, guests_stub, db):
    company, email = await new_company(stub), unique_email()
    unknown = str(uuid.uuid4())
    refused = await fails(stub.RegisterCustomer(register(company, email, guest_id=unknown)))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "GUEST_NOT_FOUND")
    assert refused.metadata == {"guest_id": unknown}
    assert await customers_stored(db, company) == 0  # nothing stored

    guest = await new_guest(guests_stub)
    customer = (await stub.RegisterCustomer(register(company, email, guest_id=guest))).customer
    assert (customer.guest_id, customer.user_id) == (guest, "")  # a guest-path customer: no user
    other_guest = await new_guest(guests_stub)
    taken = await fails(stub.RegisterCustomer(register(company, email, guest_id=other_guest)))
    assert (taken.code, taken.reason) == (grpc.StatusCode.ALREADY_EXISTS, "CUSTOMER_LINKED_TO_OTHER_GUEST")
    user = str(uuid.uuid4())
    linked = (await stub.RegisterCustomer(register(company, email, user_id=user, guest_id=guest))).customer
    assert (linked.customer_id, linked.guest_id, linked.user_id) == (customer.customer_id, guest, user)


async def test_a_refused_link_links_nothing(stub, guests_stub):
    company, email, user = await new_company(stub), unique_email(), str(uuid.uuid4())
    customer = (await stub.RegisterCustomer(register(company, email, user_id=user))).customer
    guest = await new_guest(guests_stub)
    await fails(stub.RegisterCustomer(register(company, email, user_id=str(uuid.uuid4()), guest_id=guest)))
    assert (await stub.GetCustomer(pb.GetCustomerRequest(customer_id=customer.customer_id))).customer.guest_id == ""


async def test_customers_of_a_company_page_newest_first(stub):
    company = await new_company(stub)
    mine = [(await stub.RegisterCustomer(register(company, unique_email()))).customer.customer_id for _ in range(5)]
    seen, token = [], ""
    while True:
        request = pb.ListCustomersRequest(company_id=company, page_size=2, page_token=token)
        page = await stub.ListCustomers(request)
        seen += [c.customer_id for c in page.customers]
        if not (token := page.next_page_token):
            break
    assert seen == mine[::-1]
    first = await stub.ListCustomers(pb.ListCustomersRequest(company_id=company, page_size=2))
    elsewhere = pb.ListCustomersRequest(company_id=await new_company(stub), page_token=first.next_page_token)
    assert "page_token" in (await fails(stub.ListCustomers(elsewhere))).violations


async def test_unknown_company_and_customer(stub):
    nowhere = await fails(stub.RegisterCustomer(register(str(uuid.uuid4()), unique_email())))
    assert (nowhere.code, nowhere.reason) == (grpc.StatusCode.NOT_FOUND, "COMPANY_NOT_FOUND")
    missing = await fails(stub.GetCustomer(pb.GetCustomerRequest(customer_id=str(uuid.uuid4()))))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND")


async def test_bad_input_names_every_field_at_once(stub):
    bad = await fails(
        stub.CreateCompany(pb.CreateCompanyRequest(request_id="nope", name="x" * 201, kind=7, currency="usd"))
    )
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(bad.violations) == {"request_id", "name", "kind", "currency"}
    assert "200" in bad.violations["name"] and "ISO 4217" in bad.violations["currency"]
    empty = await fails(stub.CreateCompany(pb.CreateCompanyRequest()))
    assert set(empty.violations) == {"request_id", "name", "kind", "currency"}

    company = await new_company(stub)
    request = pb.RegisterCustomerRequest(
        company_id="x", email="not-an-email", full_name="Ada\x00", user_id="u-1", guest_id="g-1"
    )
    bad = await fails(stub.RegisterCustomer(request))
    assert set(bad.violations) == {"company_id", "email", "full_name", "user_id", "guest_id"}
    assert bad.violations["email"] == "is not an email address"
    assert bad.violations["full_name"] == "must not contain control characters"
    request = register(company, "ada@exam\nple.org", "y" * 201)
    bad = await fails(stub.RegisterCustomer(request))
    assert set(bad.violations) == {"email", "full_name"}
    too_long = await fails(stub.RegisterCustomer(register(company, "a" * 250 + "@example.org")))
    assert set(too_long.violations) == {"email"}
    missing = await fails(stub.RegisterCustomer(pb.RegisterCustomerRequest(company_id=company)))
    assert set(missing.violations) == {"email", "full_name"}
    bad = await fails(stub.ResolveCustomer(pb.ResolveCustomerRequest(company_id="", user_id="sub|123")))
    assert set(bad.violations) == {"company_id", "user_id"}
    bad = await fails(stub.ListCustomers(pb.ListCustomersRequest(company_id="c", page_size=101)))
    assert set(bad.violations) == {"company_id", "page_size"}


async def test_the_typed_client(businesses_service):
    client = BusinessesClient(businesses_service.address, timeout_s=5.0)
    try:
        company = await client.create_company(str(uuid.uuid4()), "Client Base", BASE, "USD")
        assert (await client.company(company.company_id)).currency == "USD"
        user = str(uuid.uuid4())
        customer = await client.register_customer(company.company_id, unique_email(), "Ada", user_id=user)
        assert await client.resolve_customer(company.company_id, user) == customer
        assert await client.customer(customer.customer_id, company.company_id) == customer
        with pytest.raises(NotFound) as missing:
            await client.resolve_customer(company.company_id, str(uuid.uuid4()))
        assert missing.value.reason == "CUSTOMER_NOT_FOUND"
    finally:
        await client.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_guest_profiles_down_is_unavailable_and_stores_nothing(make_database, db):
    database = await fresh_database(make_database, "businesses", "businesses_no_guests")
    running = await serve(build, BusinessSettings, database, guests_addr=f"127.0.0.1:{_closed_port()}")
    try:
        stub = businesses_pb2_grpc.BusinessServiceStub(running.channel)
        company = await new_company(stub)
        down = await fails(stub.RegisterCustomer(register(company, unique_email(), guest_id=str(uuid.uuid4()))))
        assert (down.code, down.reason) == (grpc.StatusCode.UNAVAILABLE, "DEPENDENCY_UNAVAILABLE")
        assert down.metadata == {"dependency": "guest-profiles"}
        assert not (await stub.ListCustomers(pb.ListCustomersRequest(company_id=company))).customers
    finally:
        await running.stop()
