"""Events bookings consumes: SessionFinished makes the session's unpaid slot attendees due for
billing, WalletToppedUp makes the customer's PENDING_PAYMENT bookings at the company due again. Each
marks them in the inbox transaction and wakes the billing loop, which takes the money (billing.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from novatrek.catalog.v1 import events_pb2 as catalog_events
from novatrek.wallet.v1 import events_pb2 as wallet_events

from services.bookings import billing
from services.chassis.consumer import Subscription

log = logging.getLogger("novatrek.bookings.consumers")


def subscriptions(wake_billing: Callable[[], None]) -> list[Subscription[Any]]:
    async def on_session_finished(event: Any, uow: Any, headers: dict[str, str]) -> None:
        due = await billing.mark_due_of_session(uow, uuid.UUID(event.session_id))
        log.info("session finished", extra={"session_id": event.session_id, "due": due})
        if due:
            wake_billing()

    async def on_wallet_topped_up(event: Any, uow: Any, headers: dict[str, str]) -> None:
        due = await billing.mark_due_of_customer(uow, uuid.UUID(event.customer_id), uuid.UUID(event.company_id))
        if due:
            log.info("wallet topped up", extra={"customer_id": event.customer_id, "due": due})
            wake_billing()

    return [
        Subscription(catalog_events.SessionFinished, "bookings-session-finished", on_session_finished),
        Subscription(wallet_events.WalletToppedUp, "bookings-wallet-topped-up", on_wallet_topped_up),
    ]
