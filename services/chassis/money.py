"""Money in Python: Decimal amounts rounded half-even to their currency's minor unit. Pure (no
protobuf), so domains can round; protoconv maps it to and from google.type.Money."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 codes the platform sells in, with their minor units.
CURRENCY_MINOR_UNITS = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "JPY": 0,
    "NOK": 2,
    "SEK": 2,
    "DKK": 2,
}


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency]), rounding=ROUND_HALF_EVEN)
