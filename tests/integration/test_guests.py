import uuid

import grpc
from google.protobuf import field_mask_pb2
from google.type import date_pb2
from novatrek.guests.v1 import guests_pb2 as pb

from tests.helpers import fails


def new_guest(**overrides) -> pb.Guest:
    fields = {"first_name": "Ada", "last_name": "Lovelace", "email": f"ada-{uuid.uuid4().hex[:8]}@example.com"}
    return pb.Guest(**{**fields, **overrides})


async def test_create_get_and_validate_guest(guests_stub):
    created = (
        await guests_stub.CreateGuest(
            pb.CreateGuestRequest(guest=new_guest(email="  Ada.X@Example.COM ".replace("X", uuid.uuid4().hex[:6])))
        )
    ).guest
    assert created.status == pb.GUEST_STATUS_ACTIVE
    assert created.email == created.email.lower().strip()
    fetched = (await guests_stub.GetGuest(pb.GetGuestRequest(guest_id=created.guest_id))).guest
    assert fetched == created

    ok = await guests_stub.ValidateGuest(
        pb.ValidateGuestRequest(guest_id=created.guest_id, first_name=" ada ", email=created.email.upper())
    )
    assert ok.eligible and not ok.reasons
    bad = await guests_stub.ValidateGuest(
        pb.ValidateGuestRequest(guest_id=created.guest_id, last_name="Byron", email="x@y.z")
    )
    assert not bad.eligible
    assert set(bad.reasons) == {pb.INELIGIBILITY_REASON_NAME_MISMATCH, pb.INELIGIBILITY_REASON_EMAIL_MISMATCH}


async def test_suspended_and_unknown_guests_are_not_eligible(guests_stub):
    guest = (await guests_stub.CreateGuest(pb.CreateGuestRequest(guest=new_guest()))).guest
    mask = field_mask_pb2.FieldMask(paths=["status"])
    await guests_stub.UpdateGuest(
        pb.UpdateGuestRequest(
            guest=pb.Guest(guest_id=guest.guest_id, status=pb.GUEST_STATUS_SUSPENDED), update_mask=mask
        )
    )
    answer = await guests_stub.ValidateGuest(pb.ValidateGuestRequest(guest_id=guest.guest_id))
    assert list(answer.reasons) == [pb.INELIGIBILITY_REASON_SUSPENDED]
    unknown = await guests_stub.ValidateGuest(pb.ValidateGuestRequest(guest_id=str(uuid.uuid4())))
    assert list(unknown.reasons) == [pb.INELIGIBILITY_REASON_NOT_FOUND]


async def test_bad_input_is_invalid_argument_with_field_violations(guests_stub):
    failure = await fails(
        guests_stub.CreateGuest(
            pb.CreateGuestRequest(
                guest=pb.Guest(email="not-an-email", date_of_birth=date_pb2.Date(year=2999, month=1, day=1))
            )
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {"guest.first_name", "guest.last_name", "guest.email", "guest.date_of_birth"}
    failure = await fails(guests_stub.GetGuest(pb.GetGuestRequest(guest_id="nope")))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "guest_id" in failure.violations
    failure = await fails(
        guests_stub.UpdateGuest(
            pb.UpdateGuestRequest(
                guest=pb.Guest(guest_id=str(uuid.uuid4())), update_mask=field_mask_pb2.FieldMask(paths=["guest_id"])
            )
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "update_mask" in failure.violations
    failure = await fails(guests_stub.SearchGuests(pb.SearchGuestsRequest(page_token="forged")))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in failure.violations


async def test_unknown_guest_is_not_found_and_duplicate_email_already_exists(guests_stub):
    failure = await fails(guests_stub.GetGuest(pb.GetGuestRequest(guest_id=str(uuid.uuid4()))))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "GUEST_NOT_FOUND")
    guest = new_guest()
    await guests_stub.CreateGuest(pb.CreateGuestRequest(guest=guest))
    failure = await fails(guests_stub.CreateGuest(pb.CreateGuestRequest(guest=guest)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.ALREADY_EXISTS, "GUEST_EMAIL_TAKEN")


async def test_search_pages_through_all_matches_once(guests_stub):
    family = f"Fam{uuid.uuid4().hex[:8]}"
    made = {
        (await guests_stub.CreateGuest(pb.CreateGuestRequest(guest=new_guest(last_name=family)))).guest.guest_id
        for _ in range(5)
    }
    seen, token = [], ""
    while True:
        page = await guests_stub.SearchGuests(
            pb.SearchGuestsRequest(last_name_prefix=family.lower(), page_size=2, page_token=token)
        )
        seen += [g.guest_id for g in page.guests]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    failure = await fails(
        guests_stub.SearchGuests(
            pb.SearchGuestsRequest(
                last_name_prefix="other",
                page_size=2,
                page_token=(
                    await guests_stub.SearchGuests(pb.SearchGuestsRequest(last_name_prefix=family, page_size=2))
                ).next_page_token,
            )
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in failure.violations
