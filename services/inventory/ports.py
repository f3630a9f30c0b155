"""What the use cases exchange with the stock store."""

from __future__ import annotations

from dataclasses import dataclass


class DuplicateReservation(Exception):
    """A concurrent request for the same checkout stored its reservation first (nothing was taken)."""


@dataclass(frozen=True)
class ReserveOutcome:
    """What one reservation attempt found: `taken` every line, or nothing; `already` a reservation
    for the checkout (then nothing was looked at); else each wanted SKU's available stock as it was
    under lock (None: no such SKU)."""

    taken: bool
    already: bool
    available: dict[str, int | None]
