"""ReservationService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.type import date_pb2
from novatrek.reservations.v1 import reservations_pb2 as pb
from novatrek.reservations.v1 import reservations_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.limits import MAX_PARTY_SIZE
from services.chassis.money import CURRENCY_MINOR_UNITS
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import date_from_proto, mask_paths, page_size, parse_uuid
from services.chassis.text import Kind, text
from services.reservations import commands, handlers
from services.reservations.domain import CODE_ALPHABET, CODE_LENGTH, Status
from services.reservations.protomap import STATUS_FROM_PB, participant_to_pb, reservation_to_pb

ADDABLE_ROLES = {"guest", "child"}


def _trip_date(value: date_pb2.Date, field: str, v: Violations) -> date:
    day = date_from_proto(value, field, v)
    v.check(v.refused(field) or day >= datetime.now(UTC).date(), field, "must not be in the past")
    return day


def _party_size(value: int, field: str, v: Violations) -> int:
    v.check(1 <= value <= MAX_PARTY_SIZE, field, f"must be between 1 and {MAX_PARTY_SIZE}")
    return value


def _revision(value: int, v: Violations) -> int:
    v.check(value >= 0, "expected_revision", "must not be negative")
    return value


def _status(value: pb.ReservationStatus.ValueType, field: str, v: Violations) -> Status | None:
    v.check(value in STATUS_FROM_PB, field, "must be a known reservation status")
    return STATUS_FROM_PB.get(value)


def _new_status(value: pb.ReservationStatus.ValueType, v: Violations) -> Status:
    """The status a transition moves to; an unknown one is refused (PENDING stands in until raise_if_any)."""
    status = _status(value, "status", v)
    return Status.PENDING if status is None else status


class ReservationServicer(reservations_pb2_grpc.ReservationServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def CreateReservation(self, request, context):
        v = Violations()
        cmd = commands.CreateReservation(
            request_id=parse_uuid(request.request_id, "request_id", v),
            guest_id=parse_uuid(request.guest_id, "guest_id", v),
            trip_id=parse_uuid(request.trip_id, "trip_id", v),
            trip_date=_trip_date(request.trip_date, "trip_date", v),
            party_size=_party_size(request.party_size, "party_size", v),
            currency=request.currency_code,
            requested_by=text(request.requested_by, "requested_by", v, 100, required=False) or "system",
            reservation_id=parse_uuid(request.reservation_id, "reservation_id", v, required=False),
        )
        v.check(
            not cmd.currency or cmd.currency in CURRENCY_MINOR_UNITS,
            "currency_code",
            "unknown or unsupported ISO 4217 currency",
        )
        v.raise_if_any()
        return pb.CreateReservationResponse(
            reservation=reservation_to_pb(await handlers.create_reservation(cmd, self.deps))
        )

    async def GetReservation(self, request, context):
        v = Violations()
        code = request.confirmation_code.strip().upper()
        v.check(
            bool(request.reservation_id) != bool(code),
            "reservation_id",
            "give exactly one of reservation_id and confirmation_code",
        )
        reservation_id = parse_uuid(request.reservation_id, "reservation_id", v, required=False)
        v.check(
            not code or (len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)),
            "confirmation_code",
            f"must be {CODE_LENGTH} characters of {CODE_ALPHABET}",
        )
        v.raise_if_any()
        return pb.GetReservationResponse(
            reservation=reservation_to_pb(await handlers.get_reservation(reservation_id, code, self.deps))
        )

    async def SearchReservations(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        status = _status(request.status, "status", v) if request.status else None  # None too for an unknown number
        date_from = date_from_proto(request.trip_date_from, "trip_date_from", v, required=False)
        date_to = date_from_proto(request.trip_date_to, "trip_date_to", v, required=False)
        filters = {
            "guest_id": parse_uuid(request.guest_id, "guest_id", v, required=False),
            "trip_id": parse_uuid(request.trip_id, "trip_id", v, required=False),
            "status": status.value if status else None,
            "date_from": date_from,
            "date_to": date_to,
        }
        if date_from and date_to:
            v.check(date_from <= date_to, "trip_date_to", "must not be before trip_date_from")
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, after = await handlers.search_reservations(
            commands.SearchReservations(filters, position, limit), self.deps
        )
        token = self.tokens.encode(after, filters) if after else ""
        return pb.SearchReservationsResponse(reservations=[reservation_to_pb(r) for r in found], next_page_token=token)

    async def UpdateReservation(self, request, context):
        v, r = Violations(), request.reservation
        paths = mask_paths(request.update_mask, {"party_size", "trip_date"}, v)
        cmd = commands.UpdateReservation(
            reservation_id=parse_uuid(r.reservation_id, "reservation.reservation_id", v),
            trip_date=_trip_date(r.trip_date, "reservation.trip_date", v) if "trip_date" in paths else None,
            party_size=_party_size(r.party_size, "reservation.party_size", v) if "party_size" in paths else None,
            expected_revision=_revision(request.expected_revision, v),
        )
        v.raise_if_any()
        return pb.UpdateReservationResponse(
            reservation=reservation_to_pb(await handlers.update_reservation(cmd, self.deps))
        )

    async def CancelReservation(self, request, context):
        v = Violations()
        cmd = commands.TransitionStatus(
            reservation_id=parse_uuid(request.reservation_id, "reservation_id", v),
            to=Status.CANCELLED,
            changed_by=text(request.cancelled_by, "cancelled_by", v, 100, required=False) or "system",
            reason=text(request.reason, "reason", v, 2000, False, Kind.TEXT),
            expected_revision=_revision(request.expected_revision, v),
            idempotent=True,
        )
        v.raise_if_any()
        return pb.CancelReservationResponse(
            reservation=reservation_to_pb(await handlers.transition_status(cmd, self.deps))
        )

    async def TransitionReservationStatus(self, request, context):
        v = Violations()
        cmd = commands.TransitionStatus(
            reservation_id=parse_uuid(request.reservation_id, "reservation_id", v),
            to=_new_status(request.status, v),
            changed_by=text(request.changed_by, "changed_by", v, 100, required=False) or "system",
            reason=text(request.reason, "reason", v, 2000, False, Kind.TEXT),
            expected_revision=_revision(request.expected_revision, v),
        )
        v.raise_if_any()
        return pb.TransitionReservationStatusResponse(
            reservation=reservation_to_pb(await handlers.transition_status(cmd, self.deps))
        )

    async def ListParticipants(self, request, context):
        v = Violations()
        reservation_id = parse_uuid(request.reservation_id, "reservation_id", v)
        v.raise_if_any()
        found = await handlers.list_participants(reservation_id, self.deps)
        return pb.ListParticipantsResponse(participants=[participant_to_pb(p) for p in found])

    async def AddParticipant(self, request, context):
        v, p = Violations(), request.participant
        role = p.role.strip().lower() or "guest"
        v.check(role in ADDABLE_ROLES, "participant.role", f"must be one of {', '.join(sorted(ADDABLE_ROLES))}")
        cmd = commands.AddParticipant(
            reservation_id=parse_uuid(request.reservation_id, "reservation_id", v),
            guest_id=parse_uuid(p.guest_id, "participant.guest_id", v),
            role=role,
            waiver_signed=p.waiver_signed,
        )
        v.raise_if_any()
        return pb.AddParticipantResponse(participant=participant_to_pb(await handlers.add_participant(cmd, self.deps)))
