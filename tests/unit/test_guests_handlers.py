"""Guest use cases against in-memory fakes of the unit of work and the repository: no I/O."""

import uuid
from datetime import date

import pytest

from services.chassis.errors import AlreadyExists, NotFound
from services.guests import commands, handlers
from services.guests.domain import GuestStatus, IdentityClaim, Ineligibility
from tests.unit.guests_fakes import FakeGuestUnitOfWork, GuestStore


@pytest.fixture
def store() -> GuestStore:
    return GuestStore()


@pytest.fixture
def uow(store):
    return FakeGuestUnitOfWork.factory(store)


def new_guest(email: str = "Ada@Example.org ", last_name: str = " Lovelace ") -> commands.CreateGuest:
    return commands.CreateGuest(" Ada", last_name, email, " +44 20 7946 0000", date(1815, 12, 10))


def search(email: str = "", prefix: str = "", status=None, position=None, limit: int = 10) -> commands.SearchGuests:
    return commands.SearchGuests(email, prefix, status, position, limit)


async def test_a_new_guest_is_stored_trimmed_with_a_normalised_email(store, uow):
    guest = await handlers.create_guest(new_guest(), uow)
    assert (guest.first_name, guest.last_name, guest.email, guest.phone) == (
        "Ada",
        "Lovelace",
        "ada@example.org",
        "+44 20 7946 0000",
    )
    assert guest.status is GuestStatus.ACTIVE and guest.created_at == guest.updated_at
    assert store.guests == {guest.guest_id: guest} and await handlers.get_guest(guest.guest_id, uow) == guest


async def test_an_email_is_taken_whatever_its_case_and_the_refusal_writes_nothing(store, uow):
    first = await handlers.create_guest(new_guest(), uow)
    with pytest.raises(AlreadyExists) as taken:
        await handlers.create_guest(new_guest("  ADA@example.ORG"), uow)
    assert taken.value.reason == "GUEST_EMAIL_TAKEN" and list(store.guests) == [first.guest_id]


async def test_an_unknown_guest_is_not_found(uow):
    unknown = uuid.uuid4()
    for call in (handlers.get_guest(unknown, uow), handlers.update_guest(unknown, {"first_name": "X"}, uow)):
        with pytest.raises(NotFound) as missing:
            await call
        assert missing.value.reason == "GUEST_NOT_FOUND"


async def test_an_update_changes_only_the_given_fields_and_moves_updated_at(uow):
    guest = await handlers.create_guest(new_guest(), uow)
    updated = await handlers.update_guest(
        guest.guest_id, {"email": " Countess@Example.org", "status": GuestStatus.SUSPENDED}, uow
    )
    assert (updated.email, updated.status, updated.first_name) == ("countess@example.org", GuestStatus.SUSPENDED, "Ada")
    assert updated.created_at == guest.created_at and updated.updated_at >= guest.updated_at
    assert await handlers.get_guest(guest.guest_id, uow) == updated


async def test_an_update_to_another_guests_email_is_refused_and_changes_nothing(uow):
    ada = await handlers.create_guest(new_guest(), uow)
    grace = await handlers.create_guest(new_guest("grace@example.org", "Hopper"), uow)
    with pytest.raises(AlreadyExists) as taken:
        await handlers.update_guest(grace.guest_id, {"email": "ADA@example.org", "first_name": "G"}, uow)
    assert taken.value.reason == "GUEST_EMAIL_TAKEN"
    assert await handlers.get_guest(grace.guest_id, uow) == grace and await handlers.get_guest(ada.guest_id, uow) == ada
    assert (await handlers.update_guest(ada.guest_id, {"email": "ada@example.org"}, uow)).email == ada.email  # own


async def test_search_filters_by_email_last_name_prefix_and_status(uow):
    ada = await handlers.create_guest(new_guest(), uow)
    lord = await handlers.create_guest(new_guest("byron@example.org", "Lord"), uow)
    hopper = await handlers.create_guest(new_guest("grace@example.org", "Hopper"), uow)
    await handlers.update_guest(lord.guest_id, {"status": GuestStatus.INACTIVE}, uow)

    async def found(query: commands.SearchGuests) -> set[uuid.UUID]:
        return {g.guest_id for g in (await handlers.search_guests(query, uow))[0]}

    assert await found(search(email=" ADA@example.org")) == {ada.guest_id}
    assert await found(search(prefix=" lo")) == {ada.guest_id, lord.guest_id}
    assert await found(search(status=GuestStatus.ACTIVE)) == {ada.guest_id, hopper.guest_id}
    assert await found(search(prefix="50%")) == set()


async def test_search_pages_newest_first_until_the_last_page(uow):
    made = [await handlers.create_guest(new_guest(f"g{n}@example.org"), uow) for n in range(5)]
    seen, position = [], None
    while True:
        page, position = await handlers.search_guests(search(position=position, limit=2), uow)
        seen += page
        if position is None:
            break
    newest_first = sorted(made, key=lambda g: (g.created_at, g.guest_id), reverse=True)
    assert seen == newest_first and len(page) == 1


async def test_validation_names_every_reason_a_guest_may_not_book(uow):
    guest = await handlers.create_guest(new_guest(), uow)
    check = lambda claim: handlers.validate_guest(guest.guest_id, claim, uow)
    assert await check(IdentityClaim("ADA ", "lovelace", "Ada@example.org")) == []
    assert await check(IdentityClaim()) == []  # nothing claimed, nothing checked
    await handlers.update_guest(guest.guest_id, {"status": GuestStatus.SUSPENDED}, uow)
    assert await check(IdentityClaim("Ada", "Byron", "ada@elsewhere.org")) == [
        Ineligibility.SUSPENDED,
        Ineligibility.NAME_MISMATCH,
        Ineligibility.EMAIL_MISMATCH,
    ]
    assert await handlers.validate_guest(uuid.uuid4(), IdentityClaim(), uow) == [Ineligibility.NOT_FOUND]
