"""The client surface's test upstream: a real gRPC server (in-process, port 0) implementing BookingService
that records what reaches it and answers a booking of the caller's. Bookings itself is built elsewhere;
this one lets the gateway's side be tested through the real path (uvicorn, transcoding, gRPC)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import grpc
import pytest
from google.protobuf.message import Message
from novatrek.bookings.v1 import bookings_pb2, bookings_pb2_grpc

from services.chassis.protoconv import money_to_proto, utcnow
from services.gateway.client_auth import mint_token
from services.gateway.config import BOOKINGS, GatewaySettings
from tests.integration.gateway_fixtures import gateway_settings

CLIENT_KEY = "client-token-test-key-" + "k" * 42  # 64 bytes: HS256 to HS512
_B = bookings_pb2


@dataclass
class Call:
    method: str
    request: Message
    metadata: dict[str, str]


@dataclass
class RecordingBookings(bookings_pb2_grpc.BookingServiceServicer):
    calls: list[Call] = field(default_factory=list)

    def _booking(self, method: str, request: Message, context: grpc.aio.ServicerContext) -> _B.Booking:
        self.calls.append(Call(method, request, dict(context.invocation_metadata() or ())))
        price = money_to_proto(Decimal("25.00"), "USD")
        return _B.Booking(
            booking_id=str(uuid.uuid4()),
            session_id=str(uuid.uuid4()),
            company_id=str(uuid.uuid4()),
            customer_id=str(uuid.uuid4()),
            user_id=getattr(request, "user_id", ""),
            type=_B.BOOKING_TYPE_STANDARD,
            status=_B.BOOKING_STATUS_CONFIRMED,
            payment_method=_B.PAYMENT_METHOD_CARD,
            payment_status=_B.PAYMENT_STATUS_PAID,
            price=price,
            total=price,
            create_time=utcnow(),
        )

    async def CreateBooking(self, request, context):
        return _B.CreateBookingResponse(booking=self._booking("CreateBooking", request, context))

    async def CreateGuestBooking(self, request, context):
        return _B.CreateGuestBookingResponse(booking=self._booking("CreateGuestBooking", request, context))

    async def GetBooking(self, request, context):
        return _B.GetBookingResponse(booking=self._booking("GetBooking", request, context))

    async def ListMyBookings(self, request, context):
        return _B.ListMyBookingsResponse(bookings=[self._booking("ListMyBookings", request, context)])

    async def ListSessionBookings(self, request, context):
        return _B.ListSessionBookingsResponse(bookings=[self._booking("ListSessionBookings", request, context)])

    async def ListCompanyBookings(self, request, context):
        return _B.ListCompanyBookingsResponse(bookings=[self._booking("ListCompanyBookings", request, context)])

    async def PayBooking(self, request, context):
        return _B.PayBookingResponse(booking=self._booking("PayBooking", request, context))

    async def CancelBooking(self, request, context):
        return _B.CancelBookingResponse(booking=self._booking("CancelBooking", request, context))


@dataclass
class BookingUpstream:
    address: str
    servicer: RecordingBookings

    @property
    def calls(self) -> list[Call]:
        return self.servicer.calls


@pytest.fixture
async def booking_upstream():
    servicer, server = RecordingBookings(), grpc.aio.server()
    bookings_pb2_grpc.add_BookingServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield BookingUpstream(f"127.0.0.1:{port}", servicer)
    finally:
        await server.stop(None)


def client_gateway_settings(bookings_address: str, **overrides) -> GatewaySettings:
    """The public listener with the client surface alone, verifying tokens signed with CLIENT_KEY."""
    base = {"public_services": [BOOKINGS], "internal_enabled": False, "client_token_key": CLIENT_KEY}
    return gateway_settings({BOOKINGS: bookings_address}, **{**base, **overrides})


def customer_token(user_id: str, ttl_s: int = 300, **claims) -> str:
    return mint_token(CLIENT_KEY, user_id, ttl_s, **claims)


def as_customer(user_id: str, **claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {customer_token(user_id, **claims)}"}
