"""Request fields the catalog's RPCs parse alike (trips', departures' and sessions')."""

from __future__ import annotations

from decimal import Decimal

from services.catalog.domain import MAX_PRICE
from services.chassis.errors import Violations
from services.chassis.money import CURRENCY_MINOR_UNITS, quantize
from services.chassis.protoconv import money_from_proto


def price_of(message, name: str, v: Violations, prefix: str) -> tuple[Decimal, str] | None:
    """A required price field `name` of `message` (at `prefix`): a known currency, at least 0, below
    MAX_PRICE, in the currency's minor units."""
    field = f"{prefix}{name}"
    if not v.check(message.HasField(name), field, "is required"):
        return None
    price = money_from_proto(getattr(message, name), field, v)
    if price is None:
        return None
    amount, currency = price
    ok = v.check(Decimal(0) <= amount < MAX_PRICE, field, f"must be at least 0 and below {MAX_PRICE:f}")
    ok &= v.check(
        quantize(amount, currency) == amount, field, f"{currency} allows {CURRENCY_MINOR_UNITS[currency]} decimals"
    )
    return price if ok else None


def seats_of(value: int, v: Violations) -> int:
    v.check(value >= 1, "seats", "must be at least 1")
    return value
