"""Who is calling: the admin credential, or a partner by its API key (hashed, rotated with grace)."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.chassis.errors import PermissionDenied, Unauthenticated
from services.chassis.protoconv import utcnow
from services.partners.domain import Partner, key_digest, split_key


@dataclass(frozen=True)
class Caller:
    admin: bool = False
    partner: Partner | None = None  # as read to check the key: its plan prices this call's booking

    @property
    def partner_id(self) -> uuid.UUID | None:
        return None if self.partner is None else self.partner.partner_id

    def require_admin(self) -> None:
        if not self.admin:
            raise PermissionDenied("this call needs the admin credential", reason="ADMIN_REQUIRED")

    def require_partner(self) -> uuid.UUID:
        if self.partner_id is None:
            raise PermissionDenied("this call is made with a partner API key", reason="PARTNER_REQUIRED")
        return self.partner_id


def bearer_token(metadata) -> str:
    for key, value in metadata or ():
        if key == "authorization" and value.startswith("Bearer "):
            return value[len("Bearer ") :].strip()
    raise Unauthenticated("missing `authorization: Bearer <key>`", reason="CREDENTIALS_MISSING")


class Authenticator:
    def __init__(self, uow_factory, pepper: bytes, admin_token: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.uow_factory, self.pepper, self.admin_token = uow_factory, pepper, admin_token.encode()
        self.clock = clock  # when a rotated key's grace period ends

    async def identify(self, metadata) -> Caller:
        token = bearer_token(metadata)
        if self.admin_token and hmac.compare_digest(token.encode(), self.admin_token):
            return Caller(admin=True)
        key_id = split_key(token)
        if key_id is None:
            raise Unauthenticated("malformed API key", reason="API_KEY_INVALID")
        async with self.uow_factory(read_only=True) as uow:
            partner = await uow.partners.by_key_id(key_id)
        # One answer for unknown, wrong and expired keys: it tells an attacker nothing.
        if partner is None or not partner.accepts(key_id, key_digest(self.pepper, token), self.clock()):
            raise Unauthenticated("unknown, revoked or expired API key", reason="API_KEY_INVALID")
        return Caller(partner=partner)
