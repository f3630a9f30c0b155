"""What bookings takes from the wallet, being built beside it (branch wt-wallet): its typed client and
its WalletToppedUp event. Looked up by name until those
branches are merged, so this context builds and is checked without them; after the merge these become
plain imports (docs/bookings.md, "At merge")."""

from __future__ import annotations

import importlib
from typing import Any

from services.chassis.errors import Unavailable

CLIENTS = {
    "wallet": ("clients.wallet", "WalletClient"),
}
EVENTS = {
    "wallet_topped_up": ("novatrek.wallet.v1.events_pb2", "WalletToppedUp"),
}


def _named(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Unavailable(f"{module}.{name} is not there yet (its peer's branch is not merged)") from exc


def client(peer: str, target: str, timeout_s: float) -> Any:
    return _named(*CLIENTS[peer])(target, timeout_s)


def event(name: str) -> type[Any] | None:
    """The peer's event class, or None while its contract is not merged (no consumer then)."""
    try:
        found: type[Any] = _named(*EVENTS[name])
    except Unavailable:
        return None
    return found
