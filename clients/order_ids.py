"""The Order Service's published id rule (pure: its domain and its callers import it).

CreateOrder derives an order's id from its checkout, so a caller whose CreateOrder answer was lost
can still cancel the order (the checkout saga's compensation)."""

from __future__ import annotations

import uuid

ORDER_NAMESPACE = uuid.UUID("0b6f3c1e-8e4a-4d2b-9a57-3f1d2c7e5a90")


def order_id_for(checkout_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(ORDER_NAMESPACE, str(checkout_id))
