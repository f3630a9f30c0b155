"""Platform-wide limits that more than one context enforces, kept once so they cannot drift (as the
currencies of money.py). Here and not in the owning context: a context may not import another's
services.* package (DESIGN §2), and clients.* imports grpc, which domains must not (docs/architecture.md,
"How a context is laid out"). Pure Python."""

from __future__ import annotations

import re
from decimal import Decimal

# People in one reservation: reservations refuses more; partner-integrations refuses a booking
# request above it before it starts the pipeline, with the same field violation.
MAX_PARTY_SIZE = 50

# A stock keeping unit as inventory stores it; checkout refuses a cart line inventory would refuse.
SKU_MAX = 64
SKU_RULE = f"must be 1-{SKU_MAX} of A-Z, 0-9, '-', '_', '.'"
_SKU = re.compile(rf"[A-Z0-9._-]{{1,{SKU_MAX}}}")

# A payment method is a processor's token, never a card number: payments refuses one shaped like a
# card number so card numbers never reach a database or a log, and checkout refuses it before its
# saga state stores it (PCI).
PAYMENT_TOKEN_MAX = 64
PAYMENT_TOKEN_RULE = "must be a payment method token, never a card number"
_CARD_NUMBER = re.compile(r"[\d\s-]{12,23}")

# An e-mail address as guest-profiles, partner-integrations and businesses take one (a shape check:
# one '@', a dot in the domain, no white space; the mailbox itself is never verified here).
EMAIL_MAX = 254
EMAIL_RULE = "is not an email address"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The largest amount payments takes (exclusive: its numeric(12,2) columns stay below 10^10); checkout
# refuses a cart whose total reaches it.
MAX_PAYMENT_AMOUNT = Decimal(10) ** 10


def is_sku(value: str) -> bool:
    return _SKU.fullmatch(value) is not None  # fullmatch: `$` would let "ABC\n" through


def is_email(value: str) -> bool:
    return EMAIL.fullmatch(value) is not None  # fullmatch: "ada@example.org\n" is no address


def is_card_number(value: str) -> bool:
    return _CARD_NUMBER.fullmatch(value) is not None
