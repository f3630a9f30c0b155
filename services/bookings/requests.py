"""CreateBooking and CreateGuestBooking requests validated into their command: every bad field into
one Violations (the servicer raises them at once)."""

from __future__ import annotations

from typing import Any

from novatrek.bookings.v1 import bookings_pb2 as pb

from services.bookings.commands import CreateBooking, ExtraLine, Who
from services.bookings.domain import MAX_EXTRA_QUANTITY, MAX_EXTRAS, BookingType, PaymentMethod
from services.bookings.protomap import METHOD_FROM_PB, TYPE_FROM_PB
from services.chassis.errors import Violations
from services.chassis.limits import PAYMENT_TOKEN_MAX, PAYMENT_TOKEN_RULE, is_card_number
from services.chassis.protoconv import parse_uuid
from services.chassis.text import text

USER_MAX = 128
EMAIL_MAX, NAME_MAX = 254, 200


def token_of(value: str, field: str, v: Violations, required: bool = True) -> str:
    """Payments' rule: refused here, a card number is never stored in the saga's state (PCI)."""
    token = text(value, field, v, PAYMENT_TOKEN_MAX, required=required)
    v.check(not is_card_number(token), field, PAYMENT_TOKEN_RULE)
    return token


def _extras(lines: Any, v: Violations) -> tuple[ExtraLine, ...]:
    v.check(len(lines) <= MAX_EXTRAS, "extras", f"must hold at most {MAX_EXTRAS} lines")
    seen: dict[str, int] = {}
    found = []
    for i, line in enumerate(lines):
        extra_id = parse_uuid(line.extra_id, f"extras[{i}].extra_id", v)
        if line.extra_id in seen:
            v.add(f"extras[{i}].extra_id", f"repeats extras[{seen[line.extra_id]}].extra_id")
        seen.setdefault(line.extra_id, i)
        ok = 1 <= line.quantity <= MAX_EXTRA_QUANTITY
        v.check(ok, f"extras[{i}].quantity", f"must be between 1 and {MAX_EXTRA_QUANTITY}")
        found.append(ExtraLine(extra_id, line.quantity))
    return tuple(found)


def _payment(request: pb.CreateBookingRequest, kind: BookingType, v: Violations) -> tuple[Any, ...]:
    """(method, entitlement id, card token); a slot attendee is billed from the wallet later. The
    entitlement and the card token are checked whenever given, even where the method does not read
    them: no field of a request passes unchecked."""
    payment = request.payment
    method = METHOD_FROM_PB.get(payment.method)
    slot = kind is BookingType.SLOT_ATTENDEE
    by_pass, by_card = not slot and method is PaymentMethod.PASS, not slot and method is PaymentMethod.CARD
    entitlement = parse_uuid(payment.entitlement_id, "payment.entitlement_id", v, required=False)
    v.check(by_pass or not entitlement, "payment.entitlement_id", "names the pass of a PASS payment only")
    token = token_of(payment.method_reference, "payment.method_reference", v, required=by_card)
    v.check(by_card or not token, "payment.method_reference", "is the card token of a CARD payment only")
    if slot:
        ok = payment.method in (pb.PAYMENT_METHOD_UNSPECIFIED, pb.PAYMENT_METHOD_WALLET)
        v.check(ok, "payment.method", "a slot attendee is billed from the wallet: WALLET or unset")
        return PaymentMethod.WALLET, None, ""
    if not v.check(method is not None, "payment.method", "is required: PASS, WALLET or CARD"):
        return PaymentMethod.CARD, None, ""
    if by_pass:
        v.check(entitlement is not None or v.refused("payment.entitlement_id"), "payment.entitlement_id", "is required")
        v.check(not request.extras, "extras", "a pass pays the session only: pay extras by wallet or card")
    return method, entitlement if by_pass else None, token if by_card else ""


def create_booking_of(request: pb.CreateBookingRequest, v: Violations) -> CreateBooking:
    customer_id = parse_uuid(request.customer_id, "customer_id", v, required=False)
    user_id = text(request.user_id, "user_id", v, USER_MAX, required=False)
    if bool(customer_id) == bool(user_id) and not v.refused("customer_id"):
        v.add("customer_id", "exactly one of customer_id and user_id is required")
    kind = TYPE_FROM_PB.get(request.type, BookingType.STANDARD)
    v.check(request.type in (pb.BOOKING_TYPE_UNSPECIFIED, *TYPE_FROM_PB), "type", "is not a booking type")
    method, entitlement, token = _payment(request, kind, v)
    return CreateBooking(
        booking_id=parse_uuid(request.booking_id, "booking_id", v),
        company_id=parse_uuid(request.company_id, "company_id", v),
        session_id=parse_uuid(request.session_id, "session_id", v),
        who=Who(customer_id=customer_id, user_id=user_id),
        type=kind,
        extras=_extras(request.extras, v),
        method=method,
        entitlement_id=entitlement,
        method_reference=token,
    )


def guest_booking_of(request: pb.CreateGuestBookingRequest, v: Violations) -> CreateBooking:
    email = text(request.email, "email", v, EMAIL_MAX).lower()
    v.check(not email or ("@" in email and " " not in email), "email", "must be an e-mail address")
    return CreateBooking(
        booking_id=parse_uuid(request.booking_id, "booking_id", v),
        company_id=parse_uuid(request.company_id, "company_id", v),
        session_id=parse_uuid(request.session_id, "session_id", v),
        who=Who(email=email, full_name=text(request.full_name, "full_name", v, NAME_MAX)),
        type=BookingType.STANDARD,
        extras=_extras(request.extras, v),
        method=PaymentMethod.CARD,
        method_reference=token_of(request.method_reference, "method_reference", v),
    )
