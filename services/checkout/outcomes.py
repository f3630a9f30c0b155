"""Where a caller waiting for a checkout's end hears of it (chassis.outcomes, keyed by checkout id)."""

from __future__ import annotations

from services.chassis import outcomes
from services.checkout.domain import Checkout


class Outcomes(outcomes.Outcomes[Checkout]):
    def __init__(self) -> None:
        super().__init__(lambda checkout: checkout.checkout_id)
