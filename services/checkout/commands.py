"""The validated inputs of the checkout use cases (pure)."""

from __future__ import annotations

from services.checkout.domain import Cart

# CheckoutCart's command is the cart itself: the domain's value, validated by the servicer or the consumer.
CheckoutCart = Cart
