"""What the hostile-input fuzz of bookings needs to reach past "not found": a session (with an extra)
of the fuzz company, a pass of its customer, a wallet with money, and a booking that exists; and the
check that a refused booking left no row behind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from google.protobuf import timestamp_pb2
from google.type import money_pb2
from novatrek.bookings.v1 import bookings_pb2, bookings_pb2_grpc
from novatrek.catalog.v1 import catalog_pb2 as cat
from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.passes.v1 import passes_pb2, passes_pb2_grpc

from clients.wallet import WalletClient
from tests.integration.hostile_strings import ONE_OF
from tests.reliability.ledger import rows

CREATES = ("CreateBooking", "CreateGuestBooking")
# Answers that say the create was refused before anything was claimed: its id must have no row.
REFUSALS = {"INVALID_ARGUMENT", "NOT_FOUND", "FAILED_PRECONDITION", "ALREADY_EXISTS", "RESOURCE_EXHAUSTED"}


def _at(hours: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(datetime.now(UTC) + timedelta(hours=hours))
    return ts


async def booking_values(running: dict, company_id: str, customer_id: str, user_id: str) -> tuple[dict, str]:
    """Known values by field name for the bookings fuzz (merged into the other services' ones), and
    the id of the booking made here."""
    catalog = catalog_pb2_grpc.CatalogServiceStub(running["catalog"].channel)
    price = money_pb2.Money(currency_code="EUR", units=35)
    activity = (
        await catalog.CreateActivity(
            cat.CreateActivityRequest(activity=cat.Activity(company_id=company_id, name="Fuzz kayak", category="water"))
        )
    ).activity
    session = cat.Session(
        activity_id=activity.activity_id, start_time=_at(48), end_time=_at(50), capacity=10_000, price=price
    )
    session = (await catalog.CreateSession(cat.CreateSessionRequest(session=session))).session
    extra = cat.Extra(
        activity_id=activity.activity_id, name="Dry bag", unit_price=money_pb2.Money(currency_code="EUR", units=5)
    )
    extra = (await catalog.CreateExtra(cat.CreateExtraRequest(extra=extra))).extra
    passes = passes_pb2_grpc.PassServiceStub(running["passes"].channel)
    product = passes_pb2.CreatePassProductRequest(
        request_id=str(uuid.uuid4()), company_id=company_id, name="Fuzz ten", sessions=1000, validity_days=365,
        price=money_pb2.Money(currency_code="EUR", units=200),
    )  # fmt: skip
    product_id = (await passes.CreatePassProduct(product)).product.product_id
    issue = passes_pb2.IssueEntitlementRequest(
        request_id=str(uuid.uuid4()), product_id=product_id, customer_id=customer_id
    )
    entitlement = (await passes.IssueEntitlement(issue)).entitlement
    wallet = WalletClient(running["wallet"].address, 10.0)
    try:
        await wallet.top_up(str(uuid.uuid4()), customer_id, company_id, "EUR", Decimal(100_000), Decimal(0))
    finally:
        await wallet.close()
    bookings = bookings_pb2_grpc.BookingServiceStub(running["bookings"].channel)
    made = bookings_pb2.CreateBookingRequest(
        booking_id=str(uuid.uuid4()), company_id=company_id, session_id=session.session_id, user_id=user_id,
        payment=bookings_pb2.Payment(method=bookings_pb2.PAYMENT_METHOD_WALLET),
    )  # fmt: skip
    booking = (await bookings.CreateBooking(made)).booking
    values = {
        "session_id": [session.session_id],
        "extra_id": [extra.extra_id],
        "booking_id": [booking.booking_id, *(str(uuid.uuid4()) for _ in range(5))],
        "entitlement_id": [entitlement.entitlement_id],
        "quantity": [1, 2],
        "method": [
            bookings_pb2.PAYMENT_METHOD_PASS,
            bookings_pb2.PAYMENT_METHOD_WALLET,
            bookings_pb2.PAYMENT_METHOD_CARD,
        ],
        "type": [bookings_pb2.BOOKING_TYPE_STANDARD, bookings_pb2.BOOKING_TYPE_SLOT_ATTENDEE],
        "payment": [
            bookings_pb2.Payment(method=bookings_pb2.PAYMENT_METHOD_WALLET),
            bookings_pb2.Payment(method=bookings_pb2.PAYMENT_METHOD_PASS, entitlement_id=entitlement.entitlement_id),
            bookings_pb2.Payment(method=bookings_pb2.PAYMENT_METHOD_CARD, method_reference="tok_visa"),
        ],
    }
    return values, booking.booking_id


def one_of_each(method: str, sent):
    """A request that sets both of a pair it takes one of (ONE_OF) keeps the second: otherwise nearly
    every friendly CreateBooking would stop at that refusal, before the code behind it."""
    drop = ONE_OF.get(method)
    if drop and not isinstance(sent, bytes) and all(getattr(sent, f) for f in (drop, "user_id")):
        sent.ClearField(drop)
    return sent


def booking_id_of(method: str, sent) -> str | None:
    """The booking id a create names (None for other calls and for random bytes)."""
    return getattr(sent, "booking_id", None) if method in CREATES and not isinstance(sent, bytes) else None


async def stored_after_refusal(database_url: str, refused: set[str], answered: set[str]) -> list[str]:
    """Booking ids that were only ever refused, yet have a row."""
    only_refused = sorted(refused - answered)
    if not only_refused:
        return []
    found = await rows(database_url, "SELECT booking_id::text FROM bookings.bookings")
    return sorted({r[0] for r in found} & set(only_refused))
