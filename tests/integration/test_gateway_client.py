"""The client surface through the real gateway (uvicorn on loopback) in front of a real gRPC BookingService
(client_fixtures.py): customers' bearer tokens, user_id from the token, the guest path and its throttle."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import jwt
import pytest

from services.cli import main as cli
from services.gateway.config import BOOKINGS
from tests.helpers import FakeClock
from tests.integration.client_fixtures import (  # noqa: F401 (fixture)
    CLIENT_KEY,
    as_customer,
    booking_upstream,
    client_gateway_settings,
    customer_token,
)
from tests.integration.gateway_fixtures import failure, live_gateway, ok

SESSION, COMPANY, BOOKING = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
GUEST_PATH = f"/api/client/guest/companies/{COMPANY}/sessions/{SESSION}/bookings"
# Every protected route of the contract: (method, path, JSON body or None)
PROTECTED = [
    ("GET", "/api/client/my-bookings", None),
    ("GET", f"/api/client/sessions/{SESSION}/bookings", None),
    ("GET", f"/api/client/companies/{COMPANY}/bookings", None),
    ("GET", f"/api/client/bookings/{BOOKING}", None),
    ("POST", f"/api/client/bookings/{BOOKING}:pay", {"methodReference": "tok_visa"}),
    ("POST", f"/api/client/bookings/{BOOKING}:cancel", {"reason": "rain"}),
    ("POST", "/api/client/bookings", {"bookingId": BOOKING, "companyId": COMPANY, "sessionId": SESSION}),
]


def guest_body() -> dict:
    return {"bookingId": str(uuid.uuid4()), "email": "g@example.com", "fullName": "Gia Guest", "methodReference": "t"}


async def send(client, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    return await client.request(method, path, json=body, headers=headers or {})


def bad_tokens(user: str) -> dict[str, tuple[str, str]]:
    """Authorization values the gateway must refuse, with the reason it gives."""
    now = int(time.time())
    good = {"sub": user, "iat": now, "exp": now + 300, "aud": "novatrek-client"}
    return {
        "no token": ("", "TOKEN_MISSING"),
        "another scheme": (f"Basic {customer_token(user)}", "TOKEN_MISSING"),
        "bad signature": (f"Bearer {jwt.encode(good, 'another-key-' + 'x' * 40)}", "TOKEN_INVALID"),
        "expired": (f"Bearer {jwt.encode({**good, 'exp': now - 120}, CLIENT_KEY)}", "TOKEN_EXPIRED"),
        "wrong audience": (f"Bearer {jwt.encode({**good, 'aud': 'another-app'}, CLIENT_KEY)}", "TOKEN_INVALID"),
        "no audience": (f"Bearer {customer_token(user)}", "TOKEN_INVALID"),
        "alg none": (f"Bearer {jwt.encode(good, None, algorithm='none')}", "TOKEN_INVALID"),
        "sub not a user id": (f"Bearer {jwt.encode({**good, 'sub': 'admin'}, CLIENT_KEY)}", "TOKEN_INVALID"),
        "garbage": ("Bearer not-a-jwt", "TOKEN_INVALID"),
    }


async def test_protected_routes_refuse_a_missing_or_bad_token_before_any_call(booking_upstream):
    user = str(uuid.uuid4())
    settings = client_gateway_settings(booking_upstream.address, client_token_audience="novatrek-client")
    async with live_gateway(settings) as running:
        for case, (authorization, reason) in bad_tokens(user).items():
            for method, path, body in PROTECTED:
                headers = {"Authorization": authorization} if authorization else {}
                refused = await send(running.public, method, path, body, headers)
                assert failure(refused, 401)[0] == reason, (case, method, path)
                assert refused.json()["code"] == 16  # UNAUTHENTICATED
                challenge = 'Bearer realm="novatrek"' if reason == "TOKEN_MISSING" else 'Bearer error="invalid_token"'
                assert refused.headers["www-authenticate"] == challenge, case
        assert booking_upstream.calls == []
        # the same routes with a good token reach the service
        for method, path, body in PROTECTED:
            ok(await send(running.public, method, path, body, as_customer(user, audience="novatrek-client")))
        assert len(booking_upstream.calls) == len(PROTECTED)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + repr(vars(record)))


async def test_the_service_sees_the_tokens_user_whatever_the_client_sent(booking_upstream):
    user, someone_else = str(uuid.uuid4()), str(uuid.uuid4())
    token = customer_token(user.upper())
    authorization = {"Authorization": f"Bearer {token}"}
    async with live_gateway(client_gateway_settings(booking_upstream.address, access_log=True)) as running:
        api = running.public
        records, logger = Records(), logging.getLogger("novatrek.gateway")
        level = logger.level
        logger.addHandler(records)
        logger.setLevel(logging.DEBUG)
        try:
            mine = ok(await api.get("/api/client/my-bookings", params={"userId": someone_else}, headers=authorization))
            ok(await api.get(f"/api/client/sessions/{SESSION}/bookings?user_id={someone_else}", headers=authorization))
            ok(await api.get(f"/api/client/companies/{COMPANY}/bookings", headers=authorization))
            body = {"userId": someone_else, "methodReference": "tok_visa"}
            paid = ok(await api.post(f"/api/client/bookings/{BOOKING}:pay", json=body, headers=authorization))
            cancel = {"user_id": someone_else, "reason": "rain"}
            ok(await api.post(f"/api/client/bookings/{BOOKING}:cancel", json=cancel, headers=authorization))
        finally:
            logger.removeHandler(records)
            logger.setLevel(level)
        assert mine["bookings"][0]["userId"] == user and paid["booking"]["userId"] == user
        seen = [(c.method, c.request.user_id) for c in booking_upstream.calls]
        assert seen == [
            ("ListMyBookings", user),
            ("ListSessionBookings", user),
            ("ListCompanyBookings", user),
            ("PayBooking", user),
            ("CancelBooking", user),
        ]
        calls = booking_upstream.calls
        assert calls[1].request.session_id == SESSION and calls[3].request.method_reference == "tok_visa"
        assert all("authorization" not in c.metadata for c in calls)  # the token is the gateway's, not forwarded
        assert all("x-request-id" in c.metadata for c in calls)
        assert any("/api/client/my-bookings" in line for line in records.lines)  # the access log ran ...
        assert not any(token in line or token.split(".")[2] in line for line in records.lines)  # ... without it

        # a customer never names the customer: that is the token's
        create = {"bookingId": BOOKING, "companyId": COMPANY, "sessionId": SESSION, "customerId": str(uuid.uuid4())}
        reason, _, violations = failure(await api.post("/api/client/bookings", json=create, headers=authorization), 400)
        assert reason == "INVALID_ARGUMENT" and set(violations) == {"customer_id"}
        assert len(booking_upstream.calls) == 5


async def test_without_a_key_protected_routes_are_401_and_the_guest_path_works(booking_upstream):
    async with live_gateway(client_gateway_settings(booking_upstream.address, client_token_key="")) as running:
        refused = await running.public.get("/api/client/my-bookings", headers=as_customer(str(uuid.uuid4())))
        assert failure(refused, 401)[0] == "CLIENT_AUTH_NOT_CONFIGURED"
        assert booking_upstream.calls == []
        booked = ok(await running.public.post(GUEST_PATH, json=guest_body()))["booking"]
        assert booked["status"] == "BOOKING_STATUS_CONFIRMED"
    (call,) = booking_upstream.calls
    assert (call.method, call.request.company_id, call.request.session_id) == ("CreateGuestBooking", COMPANY, SESSION)
    assert call.request.email == "g@example.com"


async def test_the_guest_path_is_throttled_per_client_address(booking_upstream):
    clock = FakeClock()
    settings = client_gateway_settings(
        booking_upstream.address, guest_rate_per_min=6, guest_burst=3, trusted_proxies="127.0.0.1"
    )
    async with live_gateway(settings, clock.monotonic) as running:
        api = running.public

        def guest(address: str, **headers: str):
            return send(api, "POST", GUEST_PATH, guest_body(), {"X-Forwarded-For": address, **headers})

        burst = await asyncio.gather(*(guest("203.0.113.7") for _ in range(5)))
        assert sorted(r.status_code for r in burst) == [200] * 3 + [429] * 2
        for refused in (r for r in burst if r.status_code == 429):
            assert failure(refused, 429)[0] == "GUEST_RATE_LIMITED" and refused.json()["code"] == 8
            assert refused.headers["retry-after"] == "10"  # 6 a minute: the next token in 10 s
        # credentials do not buy another bucket on the guest path
        assert (
            await guest("203.0.113.7", Authorization=f"Bearer {customer_token(str(uuid.uuid4()))}")
        ).status_code == 429
        for _ in range(3):  # another address has its own bucket
            ok(await guest("198.51.100.9"))
        # the customers' routes are not the guest path's business
        for _ in range(5):
            ok(await api.get("/api/client/my-bookings", headers=as_customer(str(uuid.uuid4()))))
        clock.advance(seconds=9)
        assert (await guest("203.0.113.7")).headers["retry-after"] == "1"
        clock.advance(seconds=1)
        ok(await guest("203.0.113.7"))
    assert len([c for c in booking_upstream.calls if c.method == "CreateGuestBooking"]) == 3 + 3 + 1


async def test_x_forwarded_for_counts_only_from_trusted_proxies(booking_upstream):
    settings = client_gateway_settings(booking_upstream.address, guest_rate_per_min=6, guest_burst=3)
    async with live_gateway(settings, FakeClock().monotonic) as running:
        spoofed = [
            await send(running.public, "POST", GUEST_PATH, guest_body(), {"X-Forwarded-For": f"192.0.2.{i}"})
            for i in range(4)
        ]
    assert [r.status_code for r in spoofed] == [200, 200, 200, 429]  # one bucket: the peer's address


async def test_the_general_limit_still_applies_to_the_guest_path(booking_upstream):
    settings = client_gateway_settings(
        booking_upstream.address, guest_rate_per_min=60, guest_burst=10, rate_limit_per_s=1.0, rate_limit_burst=2
    )
    async with live_gateway(settings, FakeClock().monotonic) as running:
        answers = [await send(running.public, "POST", GUEST_PATH, guest_body()) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429] and failure(answers[2], 429)[0] == "RATE_LIMITED"


async def test_a_token_from_the_cli_is_accepted(booking_upstream, monkeypatch, capsys):
    user = str(uuid.uuid4())
    monkeypatch.setenv("NOVATREK_GATEWAY_CLIENT_TOKEN_KEY", CLIENT_KEY)
    monkeypatch.setenv("NOVATREK_GATEWAY_CLIENT_TOKEN_AUDIENCE", "novatrek-client")
    assert cli.main(["client-token", "--user-id", user, "--ttl-s", "120"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, CLIENT_KEY, algorithms=["HS256"], audience="novatrek-client")
    assert claims["sub"] == user and claims["exp"] - claims["iat"] == 120
    settings = client_gateway_settings(booking_upstream.address, client_token_audience="novatrek-client")
    async with live_gateway(settings) as running:
        ok(await running.public.get("/api/client/my-bookings", headers={"Authorization": f"Bearer {token}"}))
    assert booking_upstream.calls[0].request.user_id == user


@pytest.mark.parametrize("env", [{}, {"NOVATREK_GATEWAY_CLIENT_TOKEN_ALGORITHMS": '["RS256"]'}])
def test_the_cli_needs_an_hs_key(env, monkeypatch, capsys):
    monkeypatch.delenv("NOVATREK_GATEWAY_CLIENT_TOKEN_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["client-token", "--user-id", str(uuid.uuid4())]) == 2
    assert "NOVATREK_GATEWAY_CLIENT_TOKEN_KEY" in capsys.readouterr().err


async def test_the_document_declares_the_customer_token(booking_upstream):
    async with live_gateway(client_gateway_settings(booking_upstream.address)) as running:
        spec = ok(await running.public.get("/openapi.json"))
    operations = {(m, p): op for p, ms in spec["paths"].items() for m, op in ms.items()}
    assert {k: op.get("security") for k, op in operations.items()} == {
        **{(m.lower(), p): [{"customerToken": []}] for m, p in RENDERED_PROTECTED},
        ("post", "/api/client/guest/companies/{companyId}/sessions/{sessionId}/bookings"): [],
    }
    assert spec["components"]["securitySchemes"]["customerToken"]["bearerFormat"] == "JWT"
    assert BOOKINGS.rsplit(".", 1)[1] in {t for op in operations.values() for t in op["tags"]}


RENDERED_PROTECTED = [
    ("GET", "/api/client/my-bookings"),
    ("GET", "/api/client/sessions/{sessionId}/bookings"),
    ("GET", "/api/client/companies/{companyId}/bookings"),
    ("GET", "/api/client/bookings/{bookingId}"),
    ("POST", "/api/client/bookings/{bookingId}:pay"),
    ("POST", "/api/client/bookings/{bookingId}:cancel"),
    ("POST", "/api/client/bookings"),
]
