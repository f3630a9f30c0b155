"""Cross-business redemptions and revenue settlements: (command, deps) -> result (the handlers'
rules; see handlers.py for Deps).

A redemption reads the network (no transaction open), asks loyalty for the member's balance over
the current members' points (refusing INSUFFICIENT_POINTS early) and redeems there, keyed by an id
derived from its operation_id, so a retry after a lost answer or a crash consumes nothing twice; then
writes the redemption, its transactions and their events in one transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from services.chassis.money import quantize
from services.chassis.pagination import Position as PagePosition
from services.chassis.pagination import page_of
from services.network import events
from services.network.commands import ListTransactions, RedeemAcrossNetwork, SettleRevenue
from services.network.domain import (
    CrossBusinessTransaction,
    Redemption,
    currency_mismatch,
    insufficient_points,
    not_a_member,
    period_not_ended,
    period_overlaps,
)
from services.network.handlers import Deps, existing_network
from services.network.ports import LoyaltyRedemption
from services.network.settlement import Settlement, positions, transfers

# Ids this context derives for loyalty and its own transactions.
NAMESPACE = uuid.UUID("6c1d3f0e-3b7a-5e42-9a51-0c2f7b9e4d15")


def loyalty_operation_id(operation_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"redeem:{operation_id}")


def recorded(
    cmd: RedeemAcrossNetwork, currency: str, answer: LoyaltyRedemption, now: datetime, settles_on: date
) -> Redemption:
    """The redemption and one transaction per issuer other than the redeemer, each worth its points
    at the redeemer's point value (rounded to the currency), settled in the period of `settles_on`."""
    made = tuple(
        CrossBusinessTransaction(
            uuid.uuid5(NAMESPACE, f"{cmd.operation_id}:{issuer}"),
            cmd.operation_id,
            cmd.network_id,
            issuer,
            cmd.company_id,
            cmd.member_id,
            points,
            answer.point_value,
            quantize(points * answer.point_value, currency),
            currency,
            now,
            settles_on,
        )
        for issuer, points in sorted(answer.by_issuer)
        if issuer != cmd.company_id and points > 0
    )
    value = quantize(cmd.points * answer.point_value, currency)
    return Redemption(
        cmd.operation_id, cmd.network_id, cmd.member_id, cmd.company_id, cmd.points, value, currency, now, made
    )


async def redeem_across_network(cmd: RedeemAcrossNetwork, deps: Deps) -> Redemption:
    async with deps.uow(read_only=True) as uow:
        if (done := await uow.redemptions.get(cmd.operation_id)) is not None:
            return done.answering(cmd.network_id, cmd.member_id, cmd.company_id, cmd.points)
        network = await existing_network(uow, cmd.network_id)
        members = sorted({m.company_id for m in await uow.members.of_network(cmd.network_id) if m.current})
    if cmd.company_id not in members:
        raise not_a_member(cmd.network_id, cmd.company_id)
    available = sum((await deps.loyalty.redeemable(cmd.member_id, members)).values())
    if available < cmd.points:
        raise insufficient_points(available, cmd.points)
    loyalty_op = loyalty_operation_id(cmd.operation_id)
    answer = await deps.loyalty.redeem(loyalty_op, cmd.member_id, cmd.company_id, cmd.points, members)
    if answer.currency != network.currency:  # the redeemer's point value is priced in another currency
        await deps.loyalty.reverse(uuid.uuid5(NAMESPACE, f"reverse:{cmd.operation_id}"), loyalty_op)
        raise currency_mismatch(cmd.company_id, answer.currency, network.currency)
    async with deps.uow() as uow:
        # FOR SHARE: a settlement waits for it, and it sees the periods settled before it.
        locked, now = await existing_network(uow, cmd.network_id, "share"), deps.clock()
        redemption = recorded(cmd, network.currency, answer, now, locked.settlement_date(now))
        if await uow.redemptions.add(redemption):
            for t in redemption.transactions:
                uow.publish(events.transaction_completed(t), redemption.occurred_at)
            return redemption
        stored: Redemption = await uow.redemptions.get(cmd.operation_id)  # a twin wrote it first
    return stored.answering(cmd.network_id, cmd.member_id, cmd.company_id, cmd.points)


async def list_transactions(
    q: ListTransactions, deps: Deps
) -> tuple[list[CrossBusinessTransaction], PagePosition | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.redemptions.page(q.network_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda t: [t.occurred_at.isoformat(), str(t.transaction_id)])


def _midnight(day) -> datetime:
    return datetime.combine(day, time(0), UTC)


async def settle_revenue(cmd: SettleRevenue, deps: Deps) -> Settlement:
    """Once per network and period, under the network's lock: a repeat answers the settlement made,
    an overlapping period is refused. Members that left during the period keep their position."""
    now = deps.clock()
    if cmd.period_end > now.date() + timedelta(days=1):  # today may be settled; a later day not yet
        raise period_not_ended(cmd.period_end, now.date())
    start, end = _midnight(cmd.period_start), _midnight(cmd.period_end)
    async with deps.uow() as uow:
        network = await existing_network(uow, cmd.network_id, "update")
        if (same := await uow.settlements.of_period(cmd.network_id, cmd.period_start, cmd.period_end)) is not None:
            return same
        if await uow.settlements.overlapping(cmd.network_id, cmd.period_start, cmd.period_end):
            raise period_overlaps(cmd.period_start, cmd.period_end)
        made = await uow.redemptions.between(cmd.network_id, cmd.period_start, cmd.period_end)
        members = [m.company_id for m in await uow.members.of_network(cmd.network_id) if m.overlaps(start, end)]
        ps = positions(made, members)
        settlement = Settlement(
            uuid.uuid4(), cmd.network_id, cmd.period_start, cmd.period_end, network.currency,
            tuple(ps), tuple(transfers(ps)), len(made), now,
        )  # fmt: skip
        await uow.settlements.add(settlement)
        await uow.networks.close_period(cmd.network_id, cmd.period_end)
        uow.publish(events.settlement_processed(settlement), now)
    return settlement


async def list_settlements(network_id: uuid.UUID, deps: Deps) -> list[Settlement]:
    async with deps.uow(read_only=True) as uow:
        await existing_network(uow, network_id)
        found: list[Settlement] = await uow.settlements.of_network(network_id)
    return found
