"""Customers' bearer tokens on the client surface: JWTs signed by whoever logs customers in, verified here
with PyJWT. A token says who the customer is (`sub`: the platform user id, a UUID) and until when (`exp`);
nothing else of it is used. Tokens are never logged, stored or forwarded.

`mint_token` signs one with an HS* secret (the demo's `novatrek up`, `novatrek client-token`, tests)."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import TYPE_CHECKING

import jwt

from services.chassis import errors as domain
from services.gateway.errors import GatewayError, gateway_error

if TYPE_CHECKING:
    from services.gateway.config import GatewaySettings

HMAC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
# RFC 7518 3.2: an HMAC key at least as long as its hash
MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
USER_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# RFC 6750 3.1: a request without credentials gets the challenge alone, a bad token `invalid_token`.
CHALLENGE = 'Bearer realm="novatrek"'
INVALID_TOKEN = 'Bearer error="invalid_token"'


def _key_problem(key: str, algorithms: list[str]) -> str | None:
    if hmac := [a for a in algorithms if a in HMAC]:
        if key.lstrip().startswith("-----BEGIN"):
            return "client_token_key is a PEM key: use it with RS*/ES* client_token_algorithms, not HS*"
        if len(key.encode()) < (least := max(MIN_SECRET_BYTES[a] for a in hmac)):
            return f"client_token_key: an {'/'.join(hmac)} secret needs at least {least} bytes"
        return None
    for name in algorithms:
        try:
            jwt.get_algorithm_by_name(name).prepare_key(key)
        except NotImplementedError:
            return f"client_token_algorithms: {name} needs the cryptography package (pip install 'PyJWT[crypto]')"
        except (jwt.InvalidKeyError, ValueError, TypeError):
            return f"client_token_key is not a PEM public key for {name}"
    return None


def client_settings_problem(s: GatewaySettings) -> str | None:
    """What is wrong with the client surface's settings, checked at start-up (None: nothing)."""
    algorithms = s.client_token_algorithms
    if not algorithms or any(a.lower() == "none" for a in algorithms):
        return "client_token_algorithms must name signing algorithms (never none)"
    if unknown := sorted(set(algorithms) - HMAC - ASYMMETRIC):
        return f"client_token_algorithms: unknown {', '.join(unknown)}"
    if set(algorithms) & HMAC and set(algorithms) & ASYMMETRIC:
        return "client_token_algorithms: HS* and RS*/ES* together would let a public key sign as a secret"
    for name, prefix in (
        ("client_protected_prefix", s.client_protected_prefix),
        ("client_guest_prefix", s.client_guest_prefix),
    ):
        if not (prefix.startswith("/") and prefix.endswith("/")):
            return f"{name} must start and end with '/'"
    if s.client_token_leeway_s < 0:
        return "client_token_leeway_s must be >= 0"
    key = s.client_token_key.get_secret_value()
    return _key_problem(key, algorithms) if key else None


def refused(reason: str, message: str, challenge: str = INVALID_TOKEN) -> GatewayError:
    """401 UNAUTHENTICATED with its `WWW-Authenticate` challenge."""
    error = gateway_error(domain.Unauthenticated(message, reason=reason))
    error.reply.headers["www-authenticate"] = challenge
    return error


def not_configured() -> GatewayError:
    return refused("CLIENT_AUTH_NOT_CONFIGURED", "customer sign-in is not configured on this gateway", CHALLENGE)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise refused(
            "TOKEN_MISSING", "this route needs a customer's bearer token (Authorization: Bearer …)", CHALLENGE
        )
    return token.strip()


class TokenVerifier:
    def __init__(
        self, key: str, algorithms: list[str], issuer: str = "", audience: str = "", leeway_s: float = 0.0
    ) -> None:
        self.key, self.algorithms, self.issuer, self.audience = key, list(algorithms), issuer, audience
        self.leeway_s = leeway_s
        self.options = {
            "require": ["exp", "sub", *(["iss"] if issuer else []), *(["aud"] if audience else [])],
            "verify_aud": bool(audience),  # without a configured audience a token's own is not checked
        }

    @classmethod
    def from_settings(cls, s: GatewaySettings) -> TokenVerifier | None:
        """None when no key is configured: protected routes then answer CLIENT_AUTH_NOT_CONFIGURED."""
        key = s.client_token_key.get_secret_value()
        if not key:
            return None
        return cls(
            key, s.client_token_algorithms, s.client_token_issuer, s.client_token_audience, s.client_token_leeway_s
        )

    def user_id(self, authorization: str | None) -> str:
        """The verified token's `sub`, lower case; a 401 for anything else."""
        token = bearer_token(authorization)
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                options=self.options,  # type: ignore[arg-type]  # PyJWT types options as a TypedDict
                issuer=self.issuer or None,
                audience=self.audience or None,
                leeway=self.leeway_s,
            )
        except jwt.ExpiredSignatureError:
            raise refused("TOKEN_EXPIRED", "the bearer token has expired") from None
        except jwt.PyJWTError:
            raise refused("TOKEN_INVALID", "the bearer token is not valid") from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not USER_ID.fullmatch(sub):
            raise refused("TOKEN_INVALID", "the bearer token's sub is not a user id (UUID)")
        return sub.lower()


def mint_token(
    key: str, user_id: str, ttl_s: int = 3600, *, algorithm: str = "HS256", issuer: str = "", audience: str = ""
) -> str:
    """A customer token for `user_id` valid `ttl_s` seconds, signed with the HS* secret `key`."""
    if algorithm not in HMAC:
        raise ValueError(f"mint_token signs with an HS* secret, not {algorithm}: RS*/ES* tokens come from the issuer")
    if not USER_ID.fullmatch(user_id):
        raise ValueError(f"user_id must be a UUID, not {user_id!r}")
    if ttl_s < 1:
        raise ValueError("ttl_s must be at least 1")
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id.lower(), "iat": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, key, algorithm=algorithm)


def new_secret() -> str:
    """A fresh HS256 secret (64 URL-safe characters), e.g. for `novatrek up`'s demo customers."""
    return secrets.token_urlsafe(48)
