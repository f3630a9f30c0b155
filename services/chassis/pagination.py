"""Keyset pages: opaque, signed page tokens (a token we did not issue, or issued for other filters, is
refused) and the split of fetched rows into a page. Pure: handlers use it without SQLAlchemy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, TypeVar

from services.chassis.errors import Violations

T = TypeVar("T")
# A keyset position: the last row's sort key, as JSON values (db.newest_first: [created ISO string, id string])
Position = list[Any]


class PageTokens:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:16]

    def encode(self, position: Position, filters: dict[str, Any]) -> str:
        body = json.dumps({"p": position, "f": _fingerprint(filters)}, separators=(",", ":"), default=str).encode()
        return base64.urlsafe_b64encode(self._sign(body) + body).decode().rstrip("=")

    def decode(self, token: str, filters: dict[str, Any], violations: Violations) -> Position | None:
        """The keyset position of a token, None for the first page; bad tokens become violations."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, body = raw[:16], raw[16:]
            if not hmac.compare_digest(mac, self._sign(body)):
                raise ValueError("signature")
            payload = json.loads(body)
        except (ValueError, TypeError):
            violations.add("page_token", "is not a page token issued by this service")
            return None
        if payload.get("f") != _fingerprint(filters):
            violations.add("page_token", "was issued for different filters")
            return None
        position: Position = payload["p"]
        return position


def _fingerprint(filters: dict[str, Any]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def page_of(rows: list[T], limit: int, position_of: Callable[[T], Position]) -> tuple[list[T], Position | None]:
    """Splits the limit + 1 rows of `db.newest_first` into the page and the next page's position."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, position_of(page[-1])
