"""CreateBooking's payment: every field given is checked, whatever the method reads (found by the
hostile-string test: a WALLET payment took a card token or an entitlement id with NUL in it)."""

import uuid

import pytest
from novatrek.bookings.v1 import bookings_pb2 as pb

from services.bookings.domain import PaymentMethod
from services.bookings.requests import create_booking_of
from services.chassis.errors import Violations

ID = str(uuid.uuid4())


def _refused(**payment) -> dict[str, str]:
    request = pb.CreateBookingRequest(
        booking_id=ID, company_id=ID, session_id=ID, user_id="u-1", payment=pb.Payment(**payment)
    )
    v = Violations()
    create_booking_of(request, v)
    return {item.field: item.description for item in v.items}


@pytest.mark.parametrize("field", ["entitlement_id", "method_reference"])
@pytest.mark.parametrize("value", ["a\x00b", "a\r\nb", ID])
def test_a_wallet_payment_refuses_what_only_another_method_reads(field, value):
    assert f"payment.{field}" in _refused(method=pb.PAYMENT_METHOD_WALLET, **{field: value})


def test_a_pass_needs_its_entitlement_and_a_card_its_token():
    assert _refused(method=pb.PAYMENT_METHOD_PASS) == {"payment.entitlement_id": "is required"}
    assert _refused(method=pb.PAYMENT_METHOD_CARD) == {"payment.method_reference": "is required"}
    assert "payment.entitlement_id" in _refused(method=pb.PAYMENT_METHOD_CARD, method_reference="t", entitlement_id=ID)


def test_each_method_keeps_what_it_reads():
    v = Violations()
    request = pb.CreateBookingRequest(
        booking_id=ID, company_id=ID, session_id=ID, user_id="u-1",
        payment=pb.Payment(method=pb.PAYMENT_METHOD_PASS, entitlement_id=ID),
    )  # fmt: skip
    command = create_booking_of(request, v)
    assert not v.items and (command.method, str(command.entitlement_id), command.method_reference) == (
        PaymentMethod.PASS, ID, "",
    )  # fmt: skip
