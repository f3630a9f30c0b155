"""Points kept as a ledger of lots: rules, lots, the FIFO redemption plan, reversals, and the answers
the rules give (pure Python).

A member (a guest profile) earns points at a company: each earning is a lot (issuer, points, what
remains, when it expires). The balance is what remains of the unexpired lots; a redemption takes
from the soonest-expiring lots first. Every transaction is keyed by its operation_id and stores the
request it answered, so a repeat answers it again and another request under the id is refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from services.chassis.errors import FailedPrecondition, FieldViolation, InvalidArgument, key_reused
from services.chassis.money import quantize

MAX_POINTS = 10**9  # one operation's explicit points stay below this
MAX_AMOUNT = Decimal(10) ** 10  # an amount to earn on stays below this
MAX_POINTS_PER_UNIT = Decimal(10_000)
POINTS_PER_UNIT_DECIMALS = 4
MAX_POINT_VALUE = Decimal(1000)
MAX_EXPIRY_DAYS = 3650
MAX_CATEGORY = 100
MAX_ISSUERS = 100
# The operation ids of earnings and reversals derived from other contexts' events.
EVENT_NAMESPACE = uuid.UUID("6c8f4a52-1d0e-4f57-9a8c-3b7e2d91c0a4")


class Source(StrEnum):
    TRIP = "trip"
    SESSION = "session"
    ORDER = "order"


# Sources whose events name no company: the one company holding the source earns on them.
EXCLUSIVE = frozenset({Source.TRIP, Source.ORDER})


class Kind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    REVERSAL = "reversal"
    EXPIRY = "expiry"
    # An earning or redemption reversed before it arrived: its operation_id is spent, so it is refused.
    VOIDED = "voided"


@dataclass(frozen=True)
class EarnRule:
    company_id: uuid.UUID
    source: Source
    category: str  # "" = any
    points_per_unit: Decimal
    expiry_days: int  # 0 = never
    updated_at: datetime

    def points_for(self, amount: Decimal) -> int:
        """Points for `amount` spent, rounded down."""
        return int((amount * self.points_per_unit).to_integral_value(rounding=ROUND_FLOOR))

    def expiry_from(self, now: datetime) -> datetime | None:
        return now + timedelta(days=self.expiry_days) if self.expiry_days else None


@dataclass(frozen=True)
class RedeemRule:
    company_id: uuid.UUID
    currency: str
    point_value: Decimal
    updated_at: datetime

    def value_of(self, points: int) -> Decimal:
        return quantize(points * self.point_value, self.currency)


@dataclass(frozen=True)
class Lot:
    """The points of one earning: `remaining` of `points` are left; `revoked` once the earning was
    reversed (a redemption reversed later gives nothing back to it)."""

    lot_id: uuid.UUID  # the earning's operation_id
    member_id: uuid.UUID
    issuer_company_id: uuid.UUID
    points: int
    remaining: int
    expire_time: datetime | None
    created_at: datetime
    revoked: bool = False

    def live(self, now: datetime) -> bool:
        return self.expire_time is None or self.expire_time > now

    @property
    def fifo_key(self) -> tuple[bool, datetime, datetime, uuid.UUID]:
        """Soonest expiry first, lots that never expire last; then the oldest."""
        return (self.expire_time is None, self.expire_time or self.created_at, self.created_at, self.lot_id)


@dataclass(frozen=True)
class Move:
    """What a transaction does to one lot: `delta` points (negative: taken), and whether it revokes it."""

    lot_id: uuid.UUID
    issuer_company_id: uuid.UUID
    delta: int
    revoke: bool = False


@dataclass(frozen=True)
class Account:
    member_id: uuid.UUID
    by_issuer: tuple[tuple[uuid.UUID, int], ...]  # (company_id, unexpired points), by company_id
    next_expire_time: datetime | None = None

    @property
    def balance(self) -> int:
        return sum(points for _, points in self.by_issuer)


@dataclass(frozen=True)
class Transaction:
    """One ledger transaction. `points` is the balance's change, `by_issuer` per issuing company.
    `request` is what it answered (a repeat must send the same)."""

    operation_id: uuid.UUID
    kind: Kind
    member_id: uuid.UUID | None  # None: a tombstone, or the reversal of an unknown transaction
    company_id: uuid.UUID | None
    points: int
    by_issuer: tuple[tuple[uuid.UUID, int], ...]
    created_at: datetime
    request: str = ""
    source: Source | None = None
    category: str = ""
    amount: Decimal | None = None
    currency: str = ""  # the amount's (EARN) or the point value's (REDEEM)
    expire_time: datetime | None = None
    point_value: Decimal | None = None
    value: Decimal | None = None
    reverses_operation_id: uuid.UUID | None = None
    shortfall: int = 0

    def answering(self, request: str) -> Transaction:
        """This stored transaction as the answer to `request` sent again under its operation_id."""
        if self.kind is Kind.VOIDED:
            raise transaction_reversed(self.operation_id)
        if self.request != request:
            raise key_reused("operation_id", self.operation_id)
        return self


def by_issuer(moves: list[Move]) -> tuple[tuple[uuid.UUID, int], ...]:
    totals: dict[uuid.UUID, int] = {}
    for move in moves:
        if move.delta:
            totals[move.issuer_company_id] = totals.get(move.issuer_company_id, 0) + move.delta
    return tuple(sorted(totals.items(), key=lambda item: str(item[0])))


def fifo_plan(lots: list[Lot], points: int, now: datetime) -> list[Move]:
    """The moves that take `points` from the live lots, soonest-expiring first; INSUFFICIENT_POINTS
    when they hold less."""
    moves: list[Move] = []
    left = points
    for lot in sorted((lot for lot in lots if lot.live(now) and lot.remaining > 0), key=lambda lot: lot.fifo_key):
        if left == 0:
            break
        take = min(left, lot.remaining)
        moves.append(Move(lot.lot_id, lot.issuer_company_id, -take))
        left -= take
    if left:
        raise insufficient_points(points - left, points)
    return moves


def earn_reversal_moves(lot: Lot | None) -> list[Move]:
    """Takes back what remains of an earning's lot, and revokes it."""
    return [] if lot is None else [Move(lot.lot_id, lot.issuer_company_id, -lot.remaining, revoke=True)]


def redeem_reversal_moves(taken: list[Move], lots: dict[uuid.UUID, Lot]) -> list[Move]:
    """Gives a redemption's points back to the lots they came from, except revoked lots (their earning
    was reversed: those points settle its shortfall)."""
    return [Move(m.lot_id, m.issuer_company_id, -m.delta) for m in taken if not lots[m.lot_id].revoked]


def reversal_answer(
    operation_id: uuid.UUID,
    target_id: uuid.UUID,
    own: Transaction | None,
    target: Transaction | None,
    reversal_of_target: Transaction | None,
) -> Transaction | None:
    """The answer to a reversal without writing: its own transaction (a repeat), or the reversal
    another operation made of that transaction (one per transaction). None: it is to be written."""
    if own is not None:
        if own.kind is not Kind.REVERSAL or own.reverses_operation_id != target_id:
            raise key_reused("operation_id", operation_id)
        return own
    if reversal_of_target is not None:
        return reversal_of_target
    if target is not None and target.kind not in (Kind.EARN, Kind.REDEEM):
        raise not_reversible(target)
    return None


def insufficient_points(available: int, requested: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"the member holds {available} redeemable points, less than {requested}",
        reason="INSUFFICIENT_POINTS",
        metadata={"available": str(available), "requested": str(requested)},
    )


def no_redeem_rule(company_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"company {company_id} has no redeem rule",
        reason="NO_REDEEM_RULE",
        metadata={"company_id": str(company_id)},
    )


def earn_source_held(source: Source, holder: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"company {holder} earns on {source.value} already: one company per such source",
        reason="EARN_SOURCE_HELD",
        metadata={"source": source.value, "company_id": str(holder)},
    )


def transaction_reversed(operation_id: uuid.UUID) -> FailedPrecondition:
    return FailedPrecondition(
        f"transaction {operation_id} was reversed before it arrived",
        reason="TRANSACTION_REVERSED",
        metadata={"operation_id": str(operation_id)},
    )


def not_reversible(entry: Transaction) -> InvalidArgument:
    return InvalidArgument(
        f"operation {entry.operation_id} is a {entry.kind.value}, not an earning or a redemption",
        violations=[FieldViolation("transaction_operation_id", f"names a {entry.kind.value}")],
    )


def event_operation(what: str, ident: str, action: str) -> uuid.UUID:
    """The operation_id of an earning or reversal derived from another context's event: the same for
    every delivery and re-publication of it (`what`: reservation, booking, order)."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{what}:{ident}:{action}")
