"""Businesses use cases through their handlers, on an in-memory unit of work and guest-profiles."""

import uuid
from datetime import timedelta

import pytest

from services.businesses import handlers
from services.businesses.commands import CreateCompany, GetCustomer, ListCompanies, ListCustomers, RegisterCustomer
from services.businesses.domain import CompanyKind, normalize_email
from services.chassis.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tests.helpers import FakeClock
from tests.unit.businesses_fakes import FakeBusinessUow, FakeGuests, Store

BASE = CompanyKind.NOVATREK_BASE


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def guests() -> FakeGuests:
    return FakeGuests()


@pytest.fixture
def deps(store, guests, clock) -> handlers.Deps:
    return handlers.Deps(uow=FakeBusinessUow.factory(store), guests=guests, clock=clock)


async def company(deps, currency: str = "EUR") -> uuid.UUID:
    made = await handlers.create_company(CreateCompany(uuid.uuid4(), "Base", BASE, currency), deps)
    return made.company_id


def registration(company_id, email="ada@example.org", user=None, guest=None, name="Ada") -> RegisterCustomer:
    return RegisterCustomer(company_id, normalize_email(email), name, user, guest)


async def test_create_company_is_idempotent_per_request(deps, store, clock):
    cmd = CreateCompany(uuid.uuid4(), "Fjord Base", BASE, "NOK")
    made = await handlers.create_company(cmd, deps)
    assert (made.name, made.currency, made.created_at) == ("Fjord Base", "NOK", clock.now)
    assert await handlers.create_company(cmd, deps) == made
    with pytest.raises(InvalidArgument) as reused:
        await handlers.create_company(CreateCompany(cmd.request_id, "Fjord Base", BASE, "EUR"), deps)
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert len(store.companies) == 1


async def test_a_twin_that_committed_first_is_answered(deps, store):
    store.races = 1
    cmd = CreateCompany(uuid.uuid4(), "Twin", BASE, "USD")
    made = await handlers.create_company(cmd, deps)
    assert list(store.companies.values()) == [made]
    store.races = handlers.ATTEMPTS
    with pytest.raises(Aborted):
        await handlers.create_company(CreateCompany(uuid.uuid4(), "Twin", BASE, "USD"), deps)


async def test_get_and_list_companies(deps, clock):
    ids = []
    for _ in range(3):
        ids.append(await company(deps))
        clock.advance(seconds=1)
    assert (await handlers.get_company(ids[0], deps)).company_id == ids[0]
    with pytest.raises(NotFound) as missing:
        await handlers.get_company(uuid.uuid4(), deps)
    assert missing.value.reason == "COMPANY_NOT_FOUND"
    page, after = await handlers.list_companies(ListCompanies(None, 2), deps)
    assert [c.company_id for c in page] == ids[:0:-1] and after is not None
    rest, end = await handlers.list_companies(ListCompanies(after, 2), deps)
    assert [c.company_id for c in rest] == ids[:1] and end is None


async def test_register_is_idempotent_per_email_and_keeps_the_first_name(deps, store):
    c = await company(deps)
    first = await handlers.register_customer(registration(c, "Ada@Example.org"), deps)
    assert first.email == "ada@example.org" and first.user_id is None
    again = await handlers.register_customer(registration(c, "ADA@example.ORG", name="Ada L."), deps)
    assert again == first and len(store.customers) == 1


async def test_a_user_is_linked_later_and_no_other_one(deps):
    c, user = await company(deps), uuid.uuid4()
    first = await handlers.register_customer(registration(c), deps)
    linked = await handlers.register_customer(registration(c, user=user), deps)
    assert (linked.customer_id, linked.user_id) == (first.customer_id, user)
    assert await handlers.register_customer(registration(c), deps) == linked
    with pytest.raises(AlreadyExists) as other:
        await handlers.register_customer(registration(c, user=uuid.uuid4()), deps)
    assert other.value.reason == "CUSTOMER_LINKED_TO_OTHER_USER"
    with pytest.raises(AlreadyExists) as taken:
        await handlers.register_customer(registration(c, "grace@example.org", user=user), deps)
    assert taken.value.reason == "USER_LINKED_TO_OTHER_CUSTOMER"
    assert await handlers.resolve_customer(c, user, deps) == linked


async def test_a_racing_twin_gets_the_link_of_the_call_it_raced(deps, store):
    c, user = await company(deps), uuid.uuid4()
    store.races = 1
    customer = await handlers.register_customer(registration(c, user=user), deps)
    assert customer.user_id == user and len(store.customers) == 1


async def test_the_guest_is_asked_first_and_a_refusal_stores_nothing(deps, store, guests):
    c, guest = await company(deps), uuid.uuid4()
    with pytest.raises(FailedPrecondition) as unknown:
        await handlers.register_customer(registration(c, guest=guest), deps)
    assert unknown.value.reason == "GUEST_NOT_FOUND" and not store.customers
    guests.down = True
    with pytest.raises(Unavailable):
        await handlers.register_customer(registration(c, guest=guest), deps)
    guests.down, guests.known = False, {guest}
    customer = await handlers.register_customer(registration(c, guest=guest), deps)
    assert (customer.guest_id, customer.user_id) == (guest, None)
    guests.asked.clear()
    await handlers.register_customer(registration(c), deps)
    assert guests.asked == []  # no guest given: guest-profiles is not asked


async def test_a_refused_link_links_nothing(deps, guests):
    c, user, guest = await company(deps), uuid.uuid4(), uuid.uuid4()
    guests.known = {guest}
    first = await handlers.register_customer(registration(c, user=user), deps)
    with pytest.raises(AlreadyExists):
        await handlers.register_customer(registration(c, user=uuid.uuid4(), guest=guest), deps)
    assert (await handlers.get_customer(GetCustomer(first.customer_id, None), deps)).guest_id is None


async def test_unknown_company_customer_and_user(deps):
    with pytest.raises(NotFound) as nowhere:
        await handlers.register_customer(registration(uuid.uuid4()), deps)
    assert nowhere.value.reason == "COMPANY_NOT_FOUND"
    c = await company(deps)
    customer = await handlers.register_customer(registration(c), deps)
    for q in (GetCustomer(uuid.uuid4(), None), GetCustomer(customer.customer_id, uuid.uuid4())):
        with pytest.raises(NotFound) as missing:
            await handlers.get_customer(q, deps)
        assert missing.value.reason == "CUSTOMER_NOT_FOUND"
    assert await handlers.get_customer(GetCustomer(customer.customer_id, c), deps) == customer
    with pytest.raises(NotFound):
        await handlers.resolve_customer(c, uuid.uuid4(), deps)


async def test_customers_page_newest_first(deps, clock):
    c = await company(deps)
    ids = []
    for i in range(3):
        ids.append((await handlers.register_customer(registration(c, f"p{i}@example.org"), deps)).customer_id)
        clock.advance(seconds=1)
    page, after = await handlers.list_customers(ListCustomers(c, None, 2), deps)
    assert [x.customer_id for x in page] == ids[:0:-1]
    rest, end = await handlers.list_customers(ListCustomers(c, after, 2), deps)
    assert [x.customer_id for x in rest] == ids[:1] and end is None
    assert (await handlers.list_customers(ListCustomers(uuid.uuid4(), None, 2), deps)) == ([], None)
    assert timedelta(0) < clock.now - page[0].created_at


class _GuestsClient:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def get(self, guest_id: str):
        if self.error:
            raise self.error
        return object()


async def test_the_adapter_turns_guest_profiles_not_found_into_guest_not_found():
    from services.businesses.adapters import GuestsOverGrpc

    guest = uuid.uuid4()
    await GuestsOverGrpc(_GuestsClient(None)).ensure_exists(guest)
    with pytest.raises(FailedPrecondition) as unknown:
        await GuestsOverGrpc(_GuestsClient(NotFound("no", reason="GUEST_NOT_FOUND"))).ensure_exists(guest)
    assert (unknown.value.reason, unknown.value.metadata) == ("GUEST_NOT_FOUND", {"guest_id": str(guest)})
    with pytest.raises(Unavailable):
        await GuestsOverGrpc(_GuestsClient(Unavailable("down"))).ensure_exists(guest)
