"""Scenario 7, API keys: never logged, never shown again after RegisterPartner / RotatePartnerApiKey,
stored only as an HMAC under the server's pepper, compared in constant time, and retired on
rotation. (A rotated key working through its grace period and refused after it: test_partners.py
and test_gateway_partners.py, `test_rotated_key_works_through_the_grace_period_then_is_refused`
and `test_a_rotated_key_works_through_the_grace_period_only`.)"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from novatrek.partners.v1 import partners_pb2 as pb

from services.partners.domain import key_digest
from tests.helpers import fails
from tests.integration.booking import new_departure, new_guest
from tests.integration.gateway_fixtures import live_gateway, ok, partner_gateway_settings
from tests.integration.partner_fixtures import ADMIN, ADMIN_TOKEN, as_key, booking_request, partners_with, register  # noqa: F401
from tests.reliability.exposure import answer_bytes, every_log_line, shows
from tests.reliability.storms import bearer, booking_json, database, rows


def secret_of(key: str) -> str:
    return key.split("_", 2)[2]


@pytest.fixture
async def logged_partners(partners_with):
    """A partner-integrations of its own that logs every call (access log on), as verbose as it gets."""
    return await partners_with(access_log=True)


async def test_keys_appear_in_no_log_line_and_no_later_answer(logged_partners, guests_stub, catalog_stub, capfd):
    running, stub = logged_partners
    guest_id, (trip_id, day) = await new_guest(guests_stub), await new_departure(catalog_stub)
    with every_log_line() as lines:
        async with live_gateway(partner_gateway_settings(running.address, access_log=True)) as gateway:
            partner_id, key = await register(stub)
            answers = [
                await answer_bytes(
                    stub.CreatePartnerBooking(booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, "k1"))
                )
            ]
            booking = pb.CreatePartnerBookingResponse.FromString(answers[0]).booking
            rest = await gateway.public.post(
                "/v1/bookings", json=booking_json(guest_id, trip_id, day), headers=bearer(key, "k2")
            )
            answers.append(ok(rest) and rest.content)
            # Near misses too: a refused key must not be echoed back or into the log.
            for wrong in (key + "x", key[:-1], key.replace("ntk_", "ntk-")):
                answers.append(
                    await answer_bytes(
                        stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(wrong))
                    )
                )
                answers.append(
                    (await gateway.public.get("/v1/bookings", headers={"Authorization": f"Bearer {wrong}"})).content
                )
            for call in (
                stub.GetPartnerBooking(
                    pb.GetPartnerBookingRequest(booking_id=booking.booking_id), metadata=as_key(key)
                ),
                stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key)),
                stub.CreatePartnerBooking(
                    booking_request(guest_id, trip_id, day, 1), metadata=as_key(key, "k1")
                ),  # a replay
                stub.ReconcilePartnerBookings(
                    pb.ReconcilePartnerBookingsRequest(start_date=booking.trip_date, end_date=booking.trip_date),
                    metadata=as_key(key),
                ),
                stub.GetPartnerWebhook(pb.GetPartnerWebhookRequest(partner_id=partner_id), metadata=ADMIN),
                stub.RegisterPartner(
                    pb.RegisterPartnerRequest(partner=pb.Partner(name="Other", contact_email="o@o.io")), metadata=ADMIN
                ),
                stub.CancelPartnerBooking(
                    pb.CancelPartnerBookingRequest(booking_id=booking.booking_id), metadata=as_key(key)
                ),
            ):
                answers.append(await answer_bytes(call))
            rotated = await stub.RotatePartnerApiKey(
                pb.RotatePartnerApiKeyRequest(partner_id=partner_id), metadata=as_key(key)
            )
            assert not shows(rotated.SerializeToString(), [secret_of(key)])  # the new key, never the old one
            answers.append(
                await answer_bytes(
                    stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(rotated.api_key))
                )
            )
    secrets = [key, secret_of(key), rotated.api_key, secret_of(rotated.api_key), ADMIN_TOKEN]
    assert len(lines) > 20  # the access log saw every call
    assert not [line for line in lines if shows(line, secrets)]
    out, err = capfd.readouterr()  # whatever bypassed logging (grpc's C core, prints)
    assert not shows(out + err, secrets)
    assert not [a for a in answers if shows(a, secrets)]


async def test_only_an_hmac_under_the_pepper_is_stored(partners_stub, partners_service):
    partner_id, key = await register(partners_stub)
    rotated = (
        await partners_stub.RotatePartnerApiKey(
            pb.RotatePartnerApiKeyRequest(partner_id=partner_id), metadata=as_key(key)
        )
    ).api_key
    async with database(partners_service.database_url) as conn:  # every column of every table of the service
        tables = (
            (
                await conn.execute(
                    sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'partners'")
                )
            )
            .scalars()
            .all()
        )
        for table in tables:
            for row in (await conn.execute(sa.text(f'SELECT * FROM partners."{table}"'))).all():
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    assert not shows(blob, [secret_of(key), secret_of(rotated)]), (table, row)
    [(current, previous)] = await rows(
        partners_service.database_url,
        "SELECT api_key_hash, previous_key_hash FROM partners.partners WHERE partner_id = :p",
        p=uuid.UUID(partner_id),
    )
    pepper = partners_service.runtime.settings.api_key_pepper.get_secret_value().encode()
    for presented, stored in ((rotated, current), (key, previous)):
        assert stored == key_digest(pepper, presented)
        assert stored not in (
            presented,
            hashlib.sha256(presented.encode()).hexdigest(),
            hashlib.sha256(secret_of(presented).encode()).hexdigest(),
        )
        assert stored != key_digest(b"another pepper", presented)  # a leaked table verifies nothing without the pepper


async def test_the_verifier_decides_with_a_constant_time_comparison(partners_stub, partners_service, monkeypatch):
    _, key = await register(partners_stub)
    compared, real = [], hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))
    digest = key_digest(partners_service.runtime.settings.api_key_pepper.get_secret_value().encode(), key)
    assert any(digest in (a, b) for a, b in compared)  # the presented key's HMAC went through compare_digest
    # ...and its verdict is the one that counts: with compare_digest saying "different", the right key is refused.
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: False)
    failure = await fails(partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key)))
    assert (failure.code, failure.reason) == (grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID")


async def test_a_second_rotation_retires_the_first_key_at_once(partners_stub):
    """Only one previous key is kept: rotating twice is how an operator revokes a leaked key now,
    grace period or not (there is no separate revoke call)."""
    partner_id, first = await register(partners_stub)
    second = (
        await partners_stub.RotatePartnerApiKey(
            pb.RotatePartnerApiKeyRequest(partner_id=partner_id), metadata=as_key(first)
        )
    ).api_key
    answer = await partners_stub.RotatePartnerApiKey(
        pb.RotatePartnerApiKeyRequest(partner_id=partner_id), metadata=ADMIN
    )
    expires = answer.previous_key_expire_time.ToDatetime(tzinfo=UTC)
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)  # the second key's grace
    for key, works in ((first, False), (second, True), (answer.api_key, True)):
        call = partners_stub.ListPartnerBookings(pb.ListPartnerBookingsRequest(), metadata=as_key(key))
        if works:
            await call
        else:
            assert (await fails(call)).reason == "API_KEY_INVALID"
