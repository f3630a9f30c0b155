"""The limits more than one context enforces (services/chassis/limits.py) refuse the same values
everywhere: checkout refuses a cart that inventory or payments would refuse, before its saga stores it."""

import asyncio
import uuid

import pytest
from google.type import money_pb2
from novatrek.checkout.v1 import checkout_pb2
from novatrek.inventory.v1 import inventory_pb2
from novatrek.payments.v1 import payments_pb2

from services.chassis.errors import InvalidArgument, Violations
from services.chassis.pagination import PageTokens
from services.checkout.protomap import cart_of
from services.inventory.servicer import InventoryServicer
from services.payments.servicer import PaymentServicer

ID = str(uuid.uuid4())
PAN = "4111 1111 1111 1111"


def _cart(sku: str = "BAG-20", token: str = "tok_visa", units: int = 1, quantity: int = 1, lines: int = 1):
    price = money_pb2.Money(currency_code="EUR", units=units)
    skus = [sku] + [f"{sku}-{i}" for i in range(1, lines)]
    cart = [checkout_pb2.CartLine(sku=s, name="Dry bag", unit_price=price, quantity=quantity) for s in skus]
    return checkout_pb2.CheckoutCartRequest(cart_id=ID, guest_id=ID, lines=cart, payment_method_token=token)


def _checkout_refuses(request) -> set[str]:
    v = Violations()
    cart_of(request, v)
    return {violation.field for violation in v.items}


def _refuses(call) -> set[str]:
    with pytest.raises(InvalidArgument) as refused:
        asyncio.run(call)
    return {violation.field for violation in refused.value.violations}


def _inventory_refuses(sku: str) -> set[str]:
    return _refuses(InventoryServicer(None).GetStock(inventory_pb2.GetStockRequest(sku=sku), None))


def test_inventory_refuses_a_sku_with_a_trailing_newline():
    assert _inventory_refuses("ABC\n") == {"sku"}


@pytest.mark.parametrize("sku", ["bag-20", "BAG 20", "BAG/20", "B" * 65])
def test_a_sku_inventory_refuses_is_refused_by_checkout_too(sku):
    assert _inventory_refuses(sku) == {"sku"}
    assert _checkout_refuses(_cart(sku=sku)) == {"lines[0].sku"}


@pytest.mark.parametrize("token", [PAN, "4111-1111-1111-1111", "4111111111111111", "t" * 65])
def test_a_token_payments_refuses_is_refused_by_checkout_too(token):
    request = payments_pb2.AuthorizePaymentRequest(
        checkout_id=ID, guest_id=ID, amount=money_pb2.Money(currency_code="EUR", units=10), method_reference=token
    )
    assert _refuses(PaymentServicer(None, PageTokens("test")).AuthorizePayment(request, None)) == {"method_reference"}
    assert _checkout_refuses(_cart(token=token)) == {"payment_method_token"}


def test_a_total_payments_refuses_is_refused_by_checkout_too():
    assert _checkout_refuses(_cart(units=5_000_000, quantity=1000, lines=2)) == {"lines"}  # 10^10
    assert _checkout_refuses(_cart(units=4_999_999, quantity=1000, lines=2)) == set()
