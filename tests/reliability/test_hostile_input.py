"""Scenario 6, hostile input against the real servers: hypothesis-generated requests to every RPC of
every service (partner calls authenticated, so that they pass the door), and random bytes as whole
requests. No answer is INTERNAL / UNKNOWN, and none carries a stack trace or a driver's message."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import grpc
import pytest
from google.protobuf import text_format, timestamp_pb2
from google.type import date_pb2, money_pb2
from hypothesis import strategies as st
from novatrek.bookings.v1 import bookings_pb2
from novatrek.businesses.v1 import businesses_pb2, businesses_pb2_grpc
from novatrek.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from novatrek.guests.v1 import guests_pb2, guests_pb2_grpc
from novatrek.inventory.v1 import inventory_pb2
from novatrek.loyalty.v1 import loyalty_pb2, loyalty_pb2_grpc
from novatrek.network.v1 import network_pb2, network_pb2_grpc
from novatrek.notifications.v1 import notifications_pb2
from novatrek.orders.v1 import orders_pb2
from novatrek.partners.v1 import partners_pb2, partners_pb2_grpc
from novatrek.passes.v1 import passes_pb2, passes_pb2_grpc
from novatrek.payments.v1 import payments_pb2, payments_pb2_grpc
from novatrek.reservations.v1 import reservations_pb2, reservations_pb2_grpc
from novatrek.wallet.v1 import wallet_pb2

from services.chassis.protoconv import date_to_proto
from tests.integration.booking import create_request, new_departure, new_guest
from tests.integration.partner_fixtures import ADMIN, as_key, booking_request, count_plan, register
from tests.reliability.hostile import (  # noqa: F401 (fixture)
    EXAMPLES_PER_METHOD,
    RANDOM_BYTES_PER_METHOD,
    examples,
    messages,
    methods_of,
    problem,
    running,
)
from tests.reliability.hostile_bookings import (
    REFUSALS,
    booking_id_of,
    booking_values,
    one_of_each,
    stored_after_refusal,
)

SERVICES = {
    "guests": guests_pb2,
    "catalog": catalog_pb2,
    "reservations": reservations_pb2,
    "payments": payments_pb2,
    "notifications": notifications_pb2,
    "partners": partners_pb2,
    "orders": orders_pb2,
    "inventory": inventory_pb2,
    "wallet": wallet_pb2,
    "businesses": businesses_pb2,
    "passes": passes_pb2,
    "loyalty": loyalty_pb2,
    "network": network_pb2,
    "bookings": bookings_pb2,
}
ADMIN_ONLY = {"RegisterPartner", "GetPartnerWebhook"}
CALL_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
async def known(running):
    """Things that exist, by the field names that name them, and the partner the fuzz calls as."""
    guests_stub, catalog_stub = (
        guests_pb2_grpc.GuestServiceStub(running["guests"].channel),
        catalog_pb2_grpc.CatalogServiceStub(running["catalog"].channel),
    )
    reservations_stub = reservations_pb2_grpc.ReservationServiceStub(running["reservations"].channel)
    payments_stub = payments_pb2_grpc.PaymentServiceStub(running["payments"].channel)
    partners_stub = partners_pb2_grpc.PartnerServiceStub(running["partners"].channel)
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub, capacity=10_000)
    r = (await reservations_stub.CreateReservation(create_request(guest_id, trip_id, day, 1))).reservation
    payment = (
        await payments_stub.ProcessPayment(
            payments_pb2.ProcessPaymentRequest(
                request_id=str(uuid.uuid4()),
                reservation_id=r.reservation_id,
                amount=r.total_amount,
                method_reference="tok_visa",
            )
        )
    ).payment
    # Rotation is fuzzed on a partner of its own: rotating the caller's key would lock the fuzz out.
    (victim_id, _), (_, key) = await register(partners_stub), await register(partners_stub)
    booking = (
        await partners_stub.CreatePartnerBooking(
            booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, "seed")
        )
    ).booking
    businesses_stub = businesses_pb2_grpc.BusinessServiceStub(running["businesses"].channel)
    company = businesses_pb2.CreateCompanyRequest(
        request_id=str(uuid.uuid4()), name="Fuzz Base", kind=businesses_pb2.COMPANY_KIND_NOVATREK_BASE, currency="EUR"
    )
    company_id = (await businesses_stub.CreateCompany(company)).company.company_id
    user_id = str(uuid.uuid4())
    customer = businesses_pb2.RegisterCustomerRequest(
        company_id=company_id, email=f"fuzz-{user_id[:8]}@example.org", full_name="Ada", user_id=user_id
    )
    customer_id = (await businesses_stub.RegisterCustomer(customer)).customer.customer_id
    date = date_to_proto(day)
    passes = passes_pb2_grpc.PassServiceStub(running["passes"].channel)
    pass_product = (
        await passes.CreatePassProduct(
            passes_pb2.CreatePassProductRequest(
                request_id=str(uuid.uuid4()),
                company_id=str(uuid.uuid4()),
                name="Fuzz pass",
                sessions=1000,
                validity_days=365,
                price=money_pb2.Money(currency_code="EUR", units=50),
            )
        )
    ).product
    entitlement = (
        await passes.IssueEntitlement(
            passes_pb2.IssueEntitlementRequest(
                request_id=str(uuid.uuid4()), product_id=pass_product.product_id, customer_id=guest_id
            )
        )
    ).entitlement
    loyalty = loyalty_pb2_grpc.LoyaltyServiceStub(running["loyalty"].channel)
    point_value = money_pb2.Money(currency_code="EUR", nanos=10_000_000)
    await loyalty.SetRedeemRule(loyalty_pb2.SetRedeemRuleRequest(company_id=company_id, point_value=point_value))
    earning = loyalty_pb2.EarnPointsRequest(operation_id=str(uuid.uuid4()), member_id=guest_id, company_id=company_id)
    earning.points = 1_000_000
    earned = (await loyalty.EarnPoints(earning)).transaction
    network_stub = network_pb2_grpc.PartnerNetworkServiceStub(running["network"].channel)
    founded = network_pb2.CreateNetworkRequest(
        request_id=str(uuid.uuid4()), name="Fuzz Network", currency="EUR", founder_company_id=company_id
    )
    network_id = (await network_stub.CreateNetwork(founded)).network.network_id
    partner = businesses_pb2.CreateCompanyRequest(
        request_id=str(uuid.uuid4()),
        name="Fuzz Partner",
        kind=businesses_pb2.COMPANY_KIND_PARTNER_BUSINESS,
        currency="EUR",
    )
    invitee = (await businesses_stub.CreateCompany(partner)).company
    invitation = (
        await network_stub.InviteBusiness(
            network_pb2.InviteBusinessRequest(
                network_id=network_id, inviter_company_id=company_id, invitee_company_id=invitee.company_id
            )
        )
    ).invitation
    values = {
        "network_id": [network_id],
        "invitation_id": [invitation.invitation_id],
        "founder_company_id": [company_id],
        "inviter_company_id": [company_id],
        "invitee_company_id": [invitee.company_id],
        "member_id": [guest_id],
        "operation_id": [str(uuid.uuid4()) for _ in range(5)],
        "guest_id": [guest_id],
        "trip_id": [trip_id],
        "reservation_id": [r.reservation_id],
        "confirmation_code": [r.confirmation_code],
        "payment_id": [payment.payment_id],
        "partner_id": [victim_id],
        "booking_id": [booking.booking_id],
        "commission_record_id": [str(uuid.uuid5(uuid.UUID(booking.booking_id), "commission"))],
        "partner_booking_id": [booking.booking_id],
        "guest_first_name": ["Test"],
        "guest_last_name": ["Guest"],
        "email": [email := (await guests_stub.GetGuest(guests_pb2.GetGuestRequest(guest_id=guest_id))).guest.email],
        "guest_email": [email],
        "amount": [money_pb2.Money(currency_code="USD", units=10)],
        "price_per_person": [money_pb2.Money(currency_code="EUR", units=99)],
        "company_id": [company_id, pass_product.company_id],
        "customer_id": [customer_id, guest_id],
        "user_id": [user_id],
        "product_id": [pass_product.product_id],
        "entitlement_id": [entitlement.entitlement_id],
        "activity_id": [str(uuid.uuid4())],
        "price": [money_pb2.Money(currency_code="EUR", units=50)],
        "sessions": [10],
        "validity_days": [30],
        "session_start": [timestamp_pb2.Timestamp(seconds=int(time.time()) + 86_400)],
        "transaction_operation_id": [earned.operation_id],
        "point_value": [point_value],
        "points_per_unit": ["1", "0.5"],
        "points": [10],
    }
    values |= {
        name: [date]
        for name in ("trip_date", "departure_date", "start_date", "end_date", "trip_date_from", "trip_date_to")
    }
    # Plausible values of the other fields, so that a hostile one is often the only thing wrong.
    values |= {
        "party_size": [1, 2],
        "seats": [1],
        "capacity": [50],
        "page_size": [5],
        "expected_revision": [0],
        "currency_code": ["USD"],
        "first_name": ["Ada"],
        "last_name": ["Lovelace"],
        "name": ["Fuzz"],
        "contact_email": ["ops@ota.example"],
        "full_name": ["Ada Lovelace"],
        "currency": ["EUR"],
        "role": ["guest", "child"],
        "method_reference": ["tok_visa"],
        "reason": ["plans changed"],
        "request_id": [str(uuid.uuid4()) for _ in range(10)],
        "date_of_birth": [date_pb2.Date(year=1990, month=5, day=17)],
        "commission_plan": [count_plan(("0", "0.10"))],
        "paths": ["party_size", "trip_date", "first_name", "email", "status"],
    }
    made, existing = await booking_values(running, company_id, customer_id, user_id)
    values |= {name: [*values.get(name, []), *found] for name, found in made.items()}
    values["_existing_booking_id"] = [existing]
    return values, key


def metadata_for(service: str, method: str, key: str) -> tuple:
    if service != "partners":
        return ()
    return ADMIN if method in ADMIN_ONLY else as_key(key, f"fuzz-{uuid.uuid4()}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("service", list(SERVICES))
async def test_no_request_gets_an_internal_error(service, running, known):
    values, key = known
    channel = running[service].channel
    found, codes, started = [], Counter(), time.monotonic()
    refused, answered = set(), set(values["_existing_booking_id"])  # booking ids of creates, by answer
    for method in methods_of(SERVICES[service]):
        path = f"/{method.containing_service.full_name}/{method.name}"
        typed = [
            one_of_each(method.name, m) for m in examples(messages(method.input_type, values), EXAMPLES_PER_METHOD)
        ]
        garbage = examples(st.binary(min_size=1, max_size=256), RANDOM_BYTES_PER_METHOD)
        # No serializer: the random bytes go out as they are, whatever the server makes of them.
        call = channel.unary_unary(path)
        for sent in [*typed, *garbage]:
            raw = sent if isinstance(sent, bytes) else sent.SerializeToString()
            booking_id = booking_id_of(method.name, sent)
            try:
                await call(raw, metadata=metadata_for(service, method.name, key), timeout=CALL_TIMEOUT_S)
                codes["OK"] += 1
                answered.add(booking_id)
            except grpc.aio.AioRpcError as err:
                codes[err.code().name] += 1
                (refused if err.code().name in REFUSALS else answered).add(booking_id)
                if why := problem(err):
                    shown = (
                        sent[:80]
                        if isinstance(sent, bytes)
                        else text_format.MessageToString(sent, as_one_line=True)[:400]
                    )
                    found.append(f"{method.name}: {why}\n    request: {shown}")
    print(
        f"\nhostile input, {service}: {sum(codes.values())} calls in {time.monotonic() - started:.1f}s: {dict(codes)}"
    )
    assert not found, "\n".join(found)
    if service == "bookings":  # a refused create claimed nothing: its id has no row
        assert await stored_after_refusal(running[service].database_url, refused - {None}, answered) == []
