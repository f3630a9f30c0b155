"""The Checkout Saga's state: typed, frozen, persisted as JSON by the chassis runner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from services.chassis.saga import SagaState
from services.checkout.domain import Cart, Checkout, CheckoutState


@dataclass(frozen=True)
class CheckoutSagaState(SagaState):
    cart: Cart  # as validated (the payment token included: the authorization step needs it)
    created_at: datetime
    # learnt by the steps
    authorization_id: str = ""  # authorize_payment
    order_id: uuid.UUID | None = None  # create_order

    @property
    def checkout_id(self) -> uuid.UUID:
        return self.cart.checkout_id

    def completed(self, now: datetime) -> Checkout:
        if self.order_id is None:
            raise RuntimeError(f"checkout {self.checkout_id} has no order yet")
        started = Checkout.start(self.cart, self.created_at)
        return replace(
            started,
            state=CheckoutState.COMPLETED,
            order_id=self.order_id,
            authorization_id=self.authorization_id,
            updated_at=now,
        )

    def failed(self, reason: str, message: str, now: datetime) -> Checkout:
        started = Checkout.start(self.cart, self.created_at)
        return replace(
            started, state=CheckoutState.FAILED, failure_reason=reason, failure_message=message, updated_at=now
        )
