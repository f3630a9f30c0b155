"""Stock and stock reservations: values, limits, and the answers the rules give (pure Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, key_reused

NAME_MAX = 200
MAX_QUANTITY = 1000
MAX_LINES = 50
MAX_HOLD_S = 24 * 60 * 60


class Status(StrEnum):
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"


@dataclass(frozen=True)
class Stock:
    sku: str
    name: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class StockReservation:
    """One per checkout; `lines` in SKU order, the order their stock rows are locked in."""

    checkout_id: uuid.UUID
    lines: tuple[StockLine, ...]
    status: Status
    hold_seconds: int
    created_at: datetime
    expire_time: datetime
    order_id: uuid.UUID | None = None  # the order holding it: then it never expires

    @classmethod
    def held(
        cls, checkout_id: uuid.UUID, lines: tuple[StockLine, ...], hold_seconds: int, now: datetime
    ) -> StockReservation:
        ordered = tuple(sorted(lines, key=lambda line: line.sku))
        return cls(checkout_id, ordered, Status.RESERVED, hold_seconds, now, now + timedelta(seconds=hold_seconds))

    @property
    def tombstone(self) -> bool:
        """Released before anything was reserved: the checkout's compensation came first."""
        return not self.lines

    def answering(self, lines: tuple[StockLine, ...], hold_seconds: int) -> StockReservation:
        """This reservation as the answer to a repeated request; another body under its id is refused,
        and a checkout released before it reserved anything reserves nothing."""
        if self.tombstone:
            raise released(self.checkout_id)
        if set(lines) != set(self.lines) or hold_seconds != self.hold_seconds:
            raise key_reused("checkout_id", self.checkout_id)
        return self


def refusal(lines: tuple[StockLine, ...], available: dict[str, int | None]) -> FailedPrecondition:
    """Why a reservation took nothing: the first line (in SKU order) that is unknown or does not fit."""
    for line in sorted(lines, key=lambda x: x.sku):
        left = available.get(line.sku)
        if left is None:
            return FailedPrecondition(
                f"SKU {line.sku} does not exist", reason="SKU_NOT_FOUND", metadata={"sku": line.sku}
            )
        if left < line.quantity:
            return FailedPrecondition(
                f"only {left} of SKU {line.sku} available",
                reason="OUT_OF_STOCK",
                metadata={"sku": line.sku, "available": str(left)},
            )
    raise ValueError("every line fits: nothing to refuse")


def committed(checkout_id: uuid.UUID, reservation: StockReservation | None) -> StockReservation:
    """The answer to a commit: a committed reservation, else why none is."""
    if reservation is None:
        raise NotFound(f"no stock reservation for checkout {checkout_id}", reason="STOCK_RESERVATION_NOT_FOUND")
    if reservation.status is not Status.COMMITTED:  # released, or expired before the commit
        raise released(checkout_id)
    return reservation


def released(checkout_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"the stock reservation of checkout {checkout_id} was released",
        reason="RESERVATION_RELEASED",
        metadata={"checkout_id": str(checkout_id)},
    )


def level_refused(sku: str, stock: Stock | None, on_hand: int) -> InvalidArgument | FailedPrecondition:
    """Why SetStockLevel wrote nothing: a new SKU needs a name, a known one keeps what is reserved."""
    if stock is None:
        return InvalidArgument(
            f"SKU {sku} is new: it needs a name",
            violations=[FieldViolation("name", "is required for a new SKU")],
        )
    return FailedPrecondition(
        f"SKU {sku} has {stock.reserved} reserved, more than {on_hand}",
        reason="STOCK_BELOW_RESERVED",
        metadata={"sku": sku, "reserved": str(stock.reserved)},
    )
