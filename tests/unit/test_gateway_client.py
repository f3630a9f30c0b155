"""The client surface's parts: customer tokens (verification, minting), each route's access decided from its
template, the start-up check of protected requests, identity in the request, and the OpenAPI document."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from google.rpc import error_details_pb2
from novatrek.bookings.v1 import bookings_pb2

from services.gateway.bindings import Binding, bindings_for, find_service
from services.gateway.client_auth import TokenVerifier, mint_token
from services.gateway.client_surface import Access, ClientSurface, access_of, apply_identity
from services.gateway.config import BOOKINGS, PARTNERS, GatewaySettings
from services.gateway.errors import GatewayError
from services.gateway.openapi import openapi_document
from services.gateway.routes import TemplateError, parse_template

KEY = "k" * 64
USER = str(uuid.uuid4())
PROTECTED, GUEST = "/api/client/", "/api/client/guest/"


def claims(**overrides) -> dict:
    now = int(time.time())
    return {k: v for k, v in {"sub": USER, "iat": now, "exp": now + 300, **overrides}.items() if v is not None}


def refusal(verifier: TokenVerifier, authorization: str | None) -> tuple[int, str, str]:
    with pytest.raises(GatewayError) as caught:
        verifier.user_id(authorization)
    reply, info = caught.value.reply, error_details_pb2.ErrorInfo()
    assert reply.status.details[0].Unpack(info) and reply.status.code == 16  # UNAUTHENTICATED
    return reply.http_status, info.reason, reply.headers["www-authenticate"]


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_valid_token_is_its_user():
    verifier = TokenVerifier(KEY, ["HS256"])
    assert verifier.user_id(bearer(jwt.encode(claims(sub=USER.upper()), KEY))) == USER
    assert verifier.user_id("bearer  " + mint_token(KEY, USER, 60)) == USER  # the scheme is case-insensitive
    # without a configured audience or issuer, a token's own are not checked
    assert verifier.user_id(bearer(jwt.encode(claims(aud="shop", iss="idp"), KEY))) == USER


# Made when the test runs, not when it is collected: a suite longer than a token's life would
# otherwise see every one of them expired.
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: jwt.encode(claims(), "x" * 32), "TOKEN_INVALID"),  # another key
        (lambda: jwt.encode(claims(exp=int(time.time()) - 120), KEY), "TOKEN_EXPIRED"),
        (lambda: jwt.encode(claims(exp=None), KEY), "TOKEN_INVALID"),  # exp is required
        (lambda: jwt.encode(claims(sub=None), KEY), "TOKEN_INVALID"),
        (lambda: jwt.encode(claims(sub="alice"), KEY), "TOKEN_INVALID"),  # sub is a user id
        (lambda: jwt.encode(claims(nbf=int(time.time()) + 600), KEY), "TOKEN_INVALID"),
        (lambda: jwt.encode(claims(), KEY, algorithm="HS512"), "TOKEN_INVALID"),  # an algorithm not allowed
        (lambda: jwt.encode(claims(), None, algorithm="none"), "TOKEN_INVALID"),
        (lambda: "not.a.jwt", "TOKEN_INVALID"),
    ],
)
def test_bad_tokens_are_401_invalid_token(make, reason):
    assert refusal(TokenVerifier(KEY, ["HS256"]), bearer(make())) == (401, reason, 'Bearer error="invalid_token"')


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", KEY])
def test_no_bearer_token_is_401_token_missing_with_the_bare_challenge(authorization):
    assert refusal(TokenVerifier(KEY, ["HS256"]), authorization) == (401, "TOKEN_MISSING", 'Bearer realm="novatrek"')


def test_issuer_audience_and_leeway():
    strict = TokenVerifier(KEY, ["HS256"], issuer="https://id.novatrek.example", audience="novatrek-client")
    good = claims(iss="https://id.novatrek.example", aud="novatrek-client")
    assert strict.user_id(bearer(jwt.encode(good, KEY))) == USER
    for bad in ({**good, "aud": "another-app"}, {**good, "iss": "https://evil.example"}, claims()):
        assert refusal(strict, bearer(jwt.encode(bad, KEY)))[1] == "TOKEN_INVALID"
    just_expired = jwt.encode(claims(exp=int(time.time()) - 10), KEY)
    assert TokenVerifier(KEY, ["HS256"], leeway_s=30).user_id(bearer(just_expired)) == USER
    assert refusal(TokenVerifier(KEY, ["HS256"]), bearer(just_expired))[1] == "TOKEN_EXPIRED"


def test_minted_tokens_carry_the_claims_asked_for():
    token = mint_token(KEY, USER.upper(), 120, algorithm="HS384", issuer="idp", audience="shop")
    decoded = jwt.decode(token, KEY, algorithms=["HS384"], audience="shop", issuer="idp")
    assert decoded["sub"] == USER and decoded["exp"] - decoded["iat"] == 120
    for bad in ({"user_id": "alice"}, {"ttl_s": 0}, {"algorithm": "RS256"}):
        with pytest.raises(ValueError):
            mint_token(**{"key": KEY, "user_id": USER, **bad})


@pytest.mark.parametrize(
    ("template", "access"),
    [
        ("/api/client/guest/companies/{company_id}/bookings", Access.GUEST),
        ("/api/client/my-bookings", Access.CUSTOMER),
        ("/api/client/bookings/{booking_id}:cancel", Access.CUSTOMER),
        ("/api/client/{kind}/companies/{company_id}", Access.CUSTOMER),  # may match guest paths: still protected
        ("/v1/bookings/{booking_id}", Access.OPEN),
        ("/api/clientele/x", Access.OPEN),
        ("/api", Access.OPEN),
    ],
)
def test_access_is_decided_by_the_template(template, access):
    assert access_of(parse_template(template), PROTECTED, GUEST) is access


@pytest.mark.parametrize("template", ["/api/{area}/bookings", "/{path=**}", "/*/client/x"])
def test_a_template_that_may_match_protected_paths_without_their_prefix_is_refused(template):
    with pytest.raises(TemplateError):
        access_of(parse_template(template), PROTECTED, GUEST)


def test_the_bookings_contract_is_protected_but_its_guest_path():
    bindings = bindings_for([BOOKINGS])
    client = ClientSurface(GatewaySettings(), bindings)
    accesses = {b.method.name: client.of(b) for b in bindings}
    assert accesses.pop("CreateGuestBooking") is Access.GUEST and set(accesses.values()) == {Access.CUSTOMER}
    assert client.protects and client.verifier is None  # no key: protected routes answer 401
    assert not ClientSurface(GatewaySettings(), bindings_for([PARTNERS])).protects


def binding(method: str, template: str, service: str = PARTNERS) -> Binding:
    descriptor = find_service(service).methods_by_name[method]
    return Binding(service, descriptor, "GET", parse_template(template), "", "", 0)


def test_start_up_refuses_a_protected_request_without_its_own_user_id():
    no_user_id = binding("GetPartnerBooking", "/api/client/partner-bookings/{booking_id}")
    with pytest.raises(TemplateError, match="user_id"):
        ClientSurface(GatewaySettings(), [no_user_id])
    from_the_path = binding("GetBooking", "/api/client/users/{user_id}/bookings/{booking_id}", BOOKINGS)
    with pytest.raises(TemplateError, match="token"):
        ClientSurface(GatewaySettings(), [from_the_path])
    ClientSurface(GatewaySettings(), [binding("GetPartnerBooking", "/api/client/guest/b/{booking_id}")])  # guest: ok


def test_the_token_user_overwrites_user_id_and_customer_id_is_refused():
    request = bookings_pb2.CancelBookingRequest(booking_id="b", user_id="someone-else")
    apply_identity(request, USER)
    assert request.user_id == USER
    with pytest.raises(GatewayError) as caught:
        apply_identity(bookings_pb2.CreateBookingRequest(customer_id="c"), USER)
    assert caught.value.reply.http_status == 400
    guest = bookings_pb2.CreateGuestBookingRequest(email="g@example.com")
    apply_identity(guest, None)  # not a protected route: left alone
    assert guest == bookings_pb2.CreateGuestBookingRequest(email="g@example.com")


def test_the_document_has_bearer_security_per_operation():
    bindings = bindings_for([PARTNERS, BOOKINGS])
    doc = openapi_document(bindings, "public", bearer_auth=True, access=ClientSurface(GatewaySettings(), bindings).of)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["customerToken"] == {**schemes["customerToken"], "scheme": "bearer", "bearerFormat": "JWT"}
    assert doc["security"] == [{"apiKey": []}]  # the partner API's
    paths = doc["paths"]
    guest = paths["/api/client/guest/companies/{companyId}/sessions/{sessionId}/bookings"]["post"]
    assert guest["security"] == [] and "429" in guest["responses"]
    mine = paths["/api/client/my-bookings"]["get"]
    assert mine["security"] == [{"customerToken": []}] and "401" in mine["responses"]
    assert {p["name"] for p in mine["parameters"] if p["in"] == "query"} == {"pageSize", "pageToken"}
    create = paths["/api/client/bookings"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert not {"userId", "customerId"} & set(create["properties"]) and "bookingId" in create["properties"]
    assert "security" not in paths["/v1/bookings"]["post"]
    internal = openapi_document(bindings_for([PARTNERS]), "internal", bearer_auth=False)
    assert "securitySchemes" not in internal["components"] and "security" not in internal
