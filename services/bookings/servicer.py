"""BookingService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import time

from novatrek.bookings.v1 import bookings_pb2 as pb
from novatrek.bookings.v1 import bookings_pb2_grpc

from services.bookings import billing, handlers, refunds
from services.bookings.commands import CancelBooking, ListBookings, PayBooking
from services.bookings.domain import REASON_MAX
from services.bookings.protomap import booking_to_pb
from services.bookings.requests import USER_MAX, create_booking_of, guest_booking_of, token_of
from services.chassis.context import deadline_var
from services.chassis.errors import Violations
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import page_size, parse_uuid
from services.chassis.text import Kind, text


class BookingServicer(bookings_pb2_grpc.BookingServiceServicer):
    def __init__(self, deps: handlers.Deps, tokens: PageTokens, booking_timeout_s: float) -> None:
        self.deps, self.tokens, self.booking_timeout_s = deps, tokens, booking_timeout_s

    async def _create(self, command):
        if deadline_var.get() is None:  # a caller without deadline still gets a bounded booking
            deadline_var.set(time.monotonic() + self.booking_timeout_s)
        return booking_to_pb(await handlers.create_booking(command, self.deps))

    async def CreateBooking(self, request, context):
        v = Violations()
        command = create_booking_of(request, v)
        v.raise_if_any()
        return pb.CreateBookingResponse(booking=await self._create(command))

    async def CreateGuestBooking(self, request, context):
        v = Violations()
        command = guest_booking_of(request, v)
        v.raise_if_any()
        return pb.CreateGuestBookingResponse(booking=await self._create(command))

    async def GetBooking(self, request, context):
        v = Violations()
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        user_id = text(request.user_id, "user_id", v, USER_MAX, required=False)
        v.raise_if_any()
        return pb.GetBookingResponse(booking=booking_to_pb(await handlers.get_booking(booking_id, user_id, self.deps)))

    async def _list(self, request, session_field: str = "", company_field: str = ""):
        v = Violations()
        user_id = text(request.user_id, "user_id", v, USER_MAX)
        session_id = parse_uuid(request.session_id, "session_id", v) if session_field else None
        company_id = parse_uuid(request.company_id, "company_id", v) if company_field else None
        size = page_size(request.page_size, v)
        filters = {"user_id": user_id, "session_id": str(session_id or ""), "company_id": str(company_id or "")}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        query = ListBookings(user_id, session_id, company_id, size, request.page_token)
        found, after = await handlers.list_bookings(query, position, self.deps)
        token = self.tokens.encode(after, filters) if after is not None else ""
        return [booking_to_pb(b) for b in found], token

    async def ListMyBookings(self, request, context):
        found, token = await self._list(request)
        return pb.ListMyBookingsResponse(bookings=found, next_page_token=token)

    async def ListSessionBookings(self, request, context):
        found, token = await self._list(request, session_field="session_id")
        return pb.ListSessionBookingsResponse(bookings=found, next_page_token=token)

    async def ListCompanyBookings(self, request, context):
        found, token = await self._list(request, company_field="company_id")
        return pb.ListCompanyBookingsResponse(bookings=found, next_page_token=token)

    async def PayBooking(self, request, context):
        v = Violations()
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        user_id = text(request.user_id, "user_id", v, USER_MAX, required=False)
        token = token_of(request.method_reference, "method_reference", v)
        v.raise_if_any()
        paid = await billing.pay_booking(PayBooking(booking_id, user_id, token), self.deps)
        return pb.PayBookingResponse(booking=booking_to_pb(paid))

    async def CancelBooking(self, request, context):
        v = Violations()
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        user_id = text(request.user_id, "user_id", v, USER_MAX, required=False)
        reason = text(request.reason, "reason", v, REASON_MAX, required=False, kind=Kind.TEXT)
        v.raise_if_any()
        cancelled = await refunds.cancel_booking(CancelBooking(booking_id, user_id, reason), self.deps)
        return pb.CancelBookingResponse(booking=booking_to_pb(cancelled))
