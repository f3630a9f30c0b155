"""Loyalty use cases: (command, deps) -> result. Rules are one autocommit statement each; an earning,
a redemption and a reversal are one transaction whose write is one statement (with its outbox row);
the `*_in` forms run inside a unit of work the caller holds (the consumers' inbox transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.chassis.errors import Aborted
from services.chassis.pagination import Position, page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.loyalty import events
from services.loyalty.commands import (
    Earn,
    EventEarning,
    GetAccount,
    ListTransactions,
    Redeem,
    Reverse,
    SetEarnRule,
    SetRedeemRule,
)
from services.loyalty.domain import (
    Account,
    EarnRule,
    Kind,
    Move,
    RedeemRule,
    Transaction,
    by_issuer,
    earn_reversal_moves,
    earn_source_held,
    fifo_plan,
    no_redeem_rule,
    redeem_reversal_moves,
    reversal_answer,
)

# A write that wrote nothing and finds no reason why (a racing write took its key) is tried again,
# this many times in all.
ATTEMPTS = 3


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # LoyaltyUnitOfWork, or an in-memory fake in unit tests
    clock: Callable[[], datetime] = field(default=utcnow)


def _kept_changing(what: str) -> Aborted:
    return Aborted(f"the {what} kept racing with other writes; retry", reason="CONCURRENT_CHANGE")


async def set_earn_rule(cmd: SetEarnRule, deps: Deps) -> EarnRule:
    rule = EarnRule(cmd.company_id, cmd.source, cmd.category, cmd.points_per_unit, cmd.expiry_days, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        for _ in range(ATTEMPTS):
            if (saved := await uow.loyalty.set_earn_rule(rule)) is not None:
                return saved
            holder = await uow.loyalty.source_holder(rule.source)
            if holder is not None and holder != rule.company_id:
                raise earn_source_held(rule.source, holder)
    raise _kept_changing("earn rule")


async def set_redeem_rule(cmd: SetRedeemRule, deps: Deps) -> RedeemRule:
    rule = RedeemRule(cmd.company_id, cmd.currency, cmd.point_value, deps.clock())
    async with deps.uow(autocommit=True) as uow:
        saved: RedeemRule = await uow.loyalty.set_redeem_rule(rule)
    return saved


async def list_rules(company_id: uuid.UUID, deps: Deps) -> tuple[list[EarnRule], RedeemRule | None]:
    async with deps.uow(read_only=True) as uow:
        found: tuple[list[EarnRule], RedeemRule | None] = await uow.loyalty.rules(company_id)
    return found


async def get_account(q: GetAccount, deps: Deps) -> Account:
    async with deps.uow(read_only=True) as uow:
        account: Account = await uow.loyalty.account(q.member_id, q.company_ids, deps.clock())
    return account


def _earning(cmd: Earn, rule: EarnRule | None, now: datetime) -> Transaction:
    """Explicit points, or the rule's points for the amount (none without a rule); the lot expires by
    the rule."""
    points = cmd.points if cmd.points is not None else rule.points_for(cmd.amount or Decimal(0)) if rule else 0
    expires = rule.expiry_from(now) if rule and points else None
    issued = ((cmd.company_id, points),) if points else ()
    return Transaction(
        cmd.operation_id, Kind.EARN, cmd.member_id, cmd.company_id, points, issued, now, cmd.request,
        source=cmd.source, category=cmd.category, amount=cmd.amount,
        currency=cmd.currency if cmd.amount is not None else "", expire_time=expires,
    )  # fmt: skip


async def earn(cmd: Earn, deps: Deps) -> Transaction:
    async with deps.uow() as uow:
        return await earn_in(uow, cmd, deps.clock())


async def earn_in(uow, cmd: Earn, now: datetime) -> Transaction:
    """The earning and its lot with PointsEarned; a repeat answers the stored one."""
    rule = await uow.loyalty.earn_rule(cmd.company_id, cmd.source, cmd.category) if cmd.source else None
    wanted = _earning(cmd, rule, now)
    if await uow.loyalty.earn(wanted):
        uow.publish(events.earned(wanted), now)
        return wanted
    found: Transaction | None = await uow.loyalty.transaction(cmd.operation_id)
    if found is None:  # the write that took the id rolled back after all
        raise _kept_changing("earning")
    return found.answering(cmd.request)


async def earn_for_event(uow, e: EventEarning, now: datetime) -> Transaction | None:
    """An event's earning at its company, or at the company holding its source (None: nobody does)."""
    company = e.company_id or await uow.loyalty.source_holder(e.source)
    if company is None:
        return None
    return await earn_in(uow, Earn(e.operation_id, e.member_id, company, None, e.amount, e.currency, e.source, ""), now)


async def redeem(cmd: Redeem, deps: Deps) -> Transaction:
    """Under the member's lock: the soonest-expiring lots first, priced by the company's rule, with
    PointsRedeemed. Refusals write nothing; a repeat answers the stored redemption."""
    now = deps.clock()
    async with deps.uow() as uow:
        for _ in range(ATTEMPTS):
            found = await uow.loyalty.redeem_lookup(cmd.operation_id, cmd.company_id)
            if found.entry is not None:
                return found.entry.answering(cmd.request)
            if (rule := found.rule) is None:
                raise no_redeem_rule(cmd.company_id)
            await uow.loyalty.lock_account(cmd.member_id, now)
            lots = await uow.loyalty.redeemable_lots(cmd.member_id, cmd.issuer_company_ids, now)
            moves = fifo_plan(lots, cmd.points, now)
            entry = Transaction(
                cmd.operation_id, Kind.REDEEM, cmd.member_id, cmd.company_id, -cmd.points, by_issuer(moves), now,
                cmd.request, currency=rule.currency, point_value=rule.point_value, value=rule.value_of(cmd.points),
            )  # fmt: skip
            if await uow.loyalty.record(entry, moves):
                uow.publish(events.redeemed(entry), now)
                return entry
    raise _kept_changing("redemption")


async def reverse(cmd: Reverse, deps: Deps) -> Transaction:
    async with deps.uow() as uow:
        return await reverse_in(uow, cmd, deps.clock())


async def reverse_in(uow, cmd: Reverse, now: datetime) -> Transaction:
    """The reversal (once per transaction); of an unknown transaction, a tombstone and a reversal of
    nothing."""
    target_id = cmd.transaction_operation_id
    for _ in range(ATTEMPTS):
        found = await uow.loyalty.reversal_lookup(cmd.operation_id, target_id)
        answer = reversal_answer(cmd.operation_id, target_id, found.own, found.target, found.reversal_of_target)
        if answer is not None:
            return answer
        if found.target is None:
            done = await uow.loyalty.void(cmd.operation_id, target_id, cmd.request, now)
        else:
            done = await _reverse_known(uow, cmd, found.target, now)
        if done is not None:
            return done
    raise _kept_changing("reversal")


async def _reverse_known(uow, cmd: Reverse, target: Transaction, now: datetime) -> Transaction | None:
    await uow.loyalty.lock_account(target.member_id, now)
    if target.kind is Kind.EARN:
        lot = (await uow.loyalty.lots([target.operation_id])).get(target.operation_id)
        moves = earn_reversal_moves(lot)
    else:
        taken = await uow.loyalty.moves_of(target.operation_id)
        moves = redeem_reversal_moves(taken, await uow.loyalty.lots([m.lot_id for m in taken]))
    points = sum(m.delta for m in moves)
    entry = Transaction(
        cmd.operation_id, Kind.REVERSAL, target.member_id, target.company_id, points, by_issuer(moves), now,
        cmd.request, reverses_operation_id=target.operation_id, shortfall=abs(target.points) - abs(points),
    )  # fmt: skip
    if not await uow.loyalty.record(entry, moves):
        return None
    uow.publish(events.reversed_(entry), now)
    return entry


async def expire_points(deps: Deps, batch: int) -> int:
    """Writes off the expired points of up to `batch` members (an EXPIRY transaction each, under their
    locks; members being changed are left to the next run). The number of lots written off."""
    now = deps.clock()
    async with deps.uow() as uow:
        lots = await uow.loyalty.expiring(now, batch)
        members: dict[uuid.UUID, list[Move]] = {}
        for lot in lots:
            members.setdefault(lot.member_id, []).append(Move(lot.lot_id, lot.issuer_company_id, -lot.remaining))
        for member_id, moves in members.items():
            points = sum(m.delta for m in moves)
            entry = Transaction(uuid.uuid4(), Kind.EXPIRY, member_id, None, points, by_issuer(moves), now)
            await uow.loyalty.record(entry, moves)
    return len(lots)


async def list_transactions(q: ListTransactions, deps: Deps) -> tuple[list[Transaction], Position | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.loyalty.transactions(q.member_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda t: [t.created_at.isoformat(), str(t.operation_id)])
