"""The ordering invariants, read straight from inventory's, payments', orders' and checkout's
databases after a scenario: stock held is what live reservations hold, money held has its order,
every order has its authorization, and a failed checkout left nothing anywhere."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from tests.reliability.ledger import rows

HELD = ("authorized", "captured")  # authorizations that hold (or took) the guest's money
LIVE = ("confirmed", "completed")  # orders placed and not cancelled


@dataclass
class OrderingDatabases:
    inventory: str
    payments: str
    orders: str
    checkout: str


async def ordering_problems(db: OrderingDatabases) -> dict[str, list]:
    """Every broken invariant; empty lists when all hold."""
    reserved = dict(await rows(db.inventory, "SELECT sku, reserved FROM inventory.stock"))
    held_lines = await rows(
        db.inventory,
        "SELECT l.sku, l.quantity FROM inventory.stock_reservation_lines l "
        "JOIN inventory.stock_reservations r USING (checkout_id) WHERE r.status = 'reserved'",
    )
    held = Counter()
    for sku, quantity in held_lines:
        held[sku] += quantity
    stock_held = dict(await rows(db.inventory, "SELECT checkout_id::text, status FROM inventory.stock_reservations"))
    auths = await rows(
        db.payments, "SELECT authorization_id::text, checkout_id::text, status FROM payments.authorizations"
    )
    orders = await rows(
        db.orders,
        "SELECT order_id::text, checkout_id::text, authorization_id, status FROM orders.orders "
        "WHERE status <> 'tombstone'",
    )
    checkouts = dict(await rows(db.checkout, "SELECT checkout_id::text, state FROM checkout.checkouts"))
    auth_status = {a.authorization_id: a.status for a in auths}
    live_orders = {o.checkout_id: o for o in orders if o.status in LIVE}
    money_held = {a.checkout_id for a in auths if a.status in HELD}
    failed = [c for c, state in checkouts.items() if state == "failed"]
    return {
        "stock_reserved_not_held": [s for s in reserved.keys() | held.keys() if reserved.get(s, 0) != held[s]],
        "money_held_without_order": sorted(money_held - live_orders.keys()),
        "order_without_authorization": [o.order_id for o in orders if o.authorization_id not in auth_status],
        "live_order_without_money": [
            o.order_id for o in live_orders.values() if auth_status.get(o.authorization_id) not in HELD
        ],
        "failed_checkout_left_something": [
            c for c in failed if stock_held.get(c) in ("reserved", "committed") or c in money_held or c in live_orders
        ],
        "completed_checkout_without_order": [
            c for c, s in checkouts.items() if s == "completed" and c not in live_orders
        ],
    }


async def still_running(db: OrderingDatabases) -> list:
    """Checkouts not ended yet and sagas not finished (a compensation waiting for a peer)."""
    running = await rows(db.checkout, "SELECT checkout_id::text FROM checkout.checkouts WHERE state = 'running'")
    open_sagas = await rows(
        db.checkout, "SELECT saga_id::text FROM checkout.saga_instances WHERE status IN ('running', 'compensating')"
    )
    return [*running, *open_sagas]
