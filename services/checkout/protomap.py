"""Checkouts <-> protobuf: the answer, and a cart (request or event) validated into the domain's Cart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from novatrek.checkout.v1 import checkout_pb2 as pb

from services.chassis.errors import Violations
from services.chassis.limits import (
    MAX_PAYMENT_AMOUNT,
    PAYMENT_TOKEN_MAX,
    PAYMENT_TOKEN_RULE,
    SKU_MAX,
    SKU_RULE,
    is_card_number,
    is_sku,
)
from services.chassis.money import CURRENCY_MINOR_UNITS, quantize
from services.chassis.protoconv import money_from_proto, money_to_proto, parse_uuid, timestamp
from services.chassis.text import text
from services.checkout.domain import (
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    NAME_MAX,
    Cart,
    CartLine,
    Checkout,
    CheckoutState,
)

STATE_TO_PB = {
    CheckoutState.RUNNING: pb.CHECKOUT_STATE_RUNNING,
    CheckoutState.COMPLETED: pb.CHECKOUT_STATE_COMPLETED,
    CheckoutState.FAILED: pb.CHECKOUT_STATE_FAILED,
}


def line_to_pb(line: CartLine) -> pb.CartLine:
    price = money_to_proto(line.unit_price, line.currency)
    return pb.CartLine(sku=line.sku, name=line.name, unit_price=price, quantity=line.quantity)


def checkout_to_pb(c: Checkout) -> pb.Checkout:
    return pb.Checkout(
        checkout_id=str(c.checkout_id),
        cart_id=str(c.cart_id),
        guest_id=str(c.guest_id),
        lines=[line_to_pb(line) for line in c.lines],
        total=money_to_proto(c.total, c.currency),
        state=STATE_TO_PB[c.state],
        order_id=str(c.order_id) if c.order_id else "",
        authorization_id=c.authorization_id,
        failure_reason=c.failure_reason,
        failure_message=c.failure_message,
        create_time=timestamp(c.created_at),
        update_time=timestamp(c.updated_at),
    )


def _price(line: Any, at: str, v: Violations) -> tuple[Decimal, str]:
    """Exact: a known currency, at most its minor-unit decimals, positive, below MAX_UNIT_PRICE."""
    if not v.check(line.HasField("unit_price"), f"{at}.unit_price", "is required"):
        return Decimal(0), ""
    if (money := money_from_proto(line.unit_price, f"{at}.unit_price", v)) is None:
        return Decimal(0), ""
    amount, currency = money
    decimals = CURRENCY_MINOR_UNITS[currency]
    v.check(quantize(amount, currency) == amount, f"{at}.unit_price.nanos", f"{currency} allows {decimals} decimals")
    v.check(Decimal(0) < amount < MAX_UNIT_PRICE, f"{at}.unit_price", f"must be positive and below {MAX_UNIT_PRICE:f}")
    return amount, currency


def _lines(lines: Any, v: Violations) -> tuple[CartLine, ...]:
    """1-MAX_LINES lines of distinct SKUs, all in the first line's currency."""
    v.check(1 <= len(lines) <= MAX_LINES, "lines", f"must hold 1 to {MAX_LINES} lines")
    first_of: dict[str, int] = {}
    found: list[CartLine] = []
    for i, line in enumerate(lines):
        at = f"lines[{i}]"
        sku = text(line.sku, f"{at}.sku", v, SKU_MAX)
        v.check(not sku or is_sku(sku), f"{at}.sku", SKU_RULE)  # inventory's rule, refused before the saga
        if sku and v.check(sku not in first_of, f"{at}.sku", f"repeats lines[{first_of.get(sku)}].sku"):
            first_of[sku] = i
        name = text(line.name, f"{at}.name", v, NAME_MAX)
        v.check(1 <= line.quantity <= MAX_QUANTITY, f"{at}.quantity", f"must be between 1 and {MAX_QUANTITY}")
        price, currency = _price(line, at, v)
        if found and currency and found[0].currency and currency != found[0].currency:
            v.add(f"{at}.unit_price.currency_code", f"must be {found[0].currency}, as lines[0]")
        found.append(CartLine(sku, name, price, currency, line.quantity))
    total = sum((line.unit_price * line.quantity for line in found), Decimal(0))
    v.check(total < MAX_PAYMENT_AMOUNT, "lines", f"total must be below {MAX_PAYMENT_AMOUNT:f}, payments' limit")
    return tuple(found)


def _payment_token(value: str, v: Violations) -> str:
    """Payments' rule: refused here, a card number is never stored in the saga's state (PCI)."""
    token = text(value, "payment_method_token", v, PAYMENT_TOKEN_MAX)
    v.check(not is_card_number(token), "payment_method_token", PAYMENT_TOKEN_RULE)
    return token


def cart_of(request: Any, v: Violations) -> Cart:
    """A CheckoutCartRequest or a CartCheckedOut event, validated (every bad field into `v`)."""
    return Cart(
        cart_id=parse_uuid(request.cart_id, "cart_id", v),
        guest_id=parse_uuid(request.guest_id, "guest_id", v),
        lines=_lines(request.lines, v),
        payment_method_token=_payment_token(request.payment_method_token, v),
    )
