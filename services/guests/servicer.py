"""GuestService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from datetime import date

from novatrek.guests.v1 import guests_pb2 as pb
from novatrek.guests.v1 import guests_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.limits import EMAIL_MAX, EMAIL_RULE, is_email
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import date_from_proto, mask_paths, page_size, parse_uuid
from services.chassis.text import clean, text
from services.guests import commands, handlers
from services.guests.domain import IdentityClaim
from services.guests.protomap import INELIGIBILITY_TO_PB, STATUS_FROM_PB, guest_to_pb

UPDATABLE = {"first_name", "last_name", "email", "phone", "date_of_birth", "status"}


def _fields(guest: pb.Guest, paths: set[str], v: Violations) -> dict:
    """Validated values of the named guest fields."""
    out: dict = {}
    for name in ("first_name", "last_name"):
        if name in paths:
            out[name] = text(getattr(guest, name), f"guest.{name}", v, 100)
    if "email" in paths:
        out["email"] = text(guest.email, "guest.email", v, EMAIL_MAX)
        v.check(not out["email"] or is_email(out["email"]), "guest.email", EMAIL_RULE)
    if "phone" in paths:
        out["phone"] = text(guest.phone, "guest.phone", v, 32, required=False)
    if "date_of_birth" in paths:
        dob = date_from_proto(guest.date_of_birth, "guest.date_of_birth", v, required=False)
        v.check(dob is None or dob < date.today(), "guest.date_of_birth", "must be in the past")
        out["date_of_birth"] = dob
    if "status" in paths:
        v.check(guest.status in STATUS_FROM_PB, "guest.status", "must be ACTIVE, INACTIVE or SUSPENDED")
        out["status"] = STATUS_FROM_PB.get(guest.status)
    return out


class GuestServicer(guests_pb2_grpc.GuestServiceServicer):
    def __init__(self, uow_factory, page_tokens: PageTokens) -> None:
        self.uow_factory, self.tokens = uow_factory, page_tokens

    async def CreateGuest(self, request, context):
        v = Violations()
        fields = _fields(request.guest, {"first_name", "last_name", "email", "phone", "date_of_birth"}, v)
        v.raise_if_any()
        guest = await handlers.create_guest(commands.CreateGuest(**fields), self.uow_factory)
        return pb.CreateGuestResponse(guest=guest_to_pb(guest))

    async def GetGuest(self, request, context):
        v = Violations()
        guest_id = parse_uuid(request.guest_id, "guest_id", v)
        v.raise_if_any()
        return pb.GetGuestResponse(guest=guest_to_pb(await handlers.get_guest(guest_id, self.uow_factory)))

    async def SearchGuests(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        v.check(
            request.status in STATUS_FROM_PB or request.status == pb.GUEST_STATUS_UNSPECIFIED,
            "status",
            "unknown status",
        )
        email = clean(request.email, "email", v, max_len=254)
        last = clean(request.last_name_prefix, "last_name_prefix", v, max_len=100)
        filters = {"email": email, "last": last, "status": request.status}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        query = commands.SearchGuests(email, last, STATUS_FROM_PB.get(request.status), position, limit)
        found, next_position = await handlers.search_guests(query, self.uow_factory)
        token = self.tokens.encode(next_position, filters) if next_position else ""
        return pb.SearchGuestsResponse(guests=[guest_to_pb(g) for g in found], next_page_token=token)

    async def UpdateGuest(self, request, context):
        v = Violations()
        guest_id = parse_uuid(request.guest.guest_id, "guest.guest_id", v)
        changes = _fields(request.guest, mask_paths(request.update_mask, UPDATABLE, v), v)
        v.raise_if_any()
        guest = await handlers.update_guest(guest_id, changes, self.uow_factory)
        return pb.UpdateGuestResponse(guest=guest_to_pb(guest))

    async def ValidateGuest(self, request, context):
        v = Violations()
        guest_id = parse_uuid(request.guest_id, "guest_id", v)
        claim = IdentityClaim(*(clean(getattr(request, f), f, v) for f in ("first_name", "last_name", "email")))
        v.raise_if_any()
        reasons = await handlers.validate_guest(guest_id, claim, self.uow_factory)
        return pb.ValidateGuestResponse(eligible=not reasons, reasons=[INELIGIBILITY_TO_PB[r] for r in reasons])
