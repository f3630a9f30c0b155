"""Pass use cases: (command, deps) -> result. Every write is one statement (see db.py); a write that
took nothing is explained by one read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import Aborted, key_reused
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.passes.commands import CreatePassProduct, IssueEntitlement, ListEntitlements, RestoreEntitlement
from services.passes.domain import (
    Consumption,
    Entitlement,
    PassProduct,
    Restoration,
    SessionUse,
    UsageStatus,
    consume_refusal,
    entitlement_not_found,
    product_not_found,
    replayed_issue,
    replayed_usage,
)
from services.passes.ports import DuplicateUsage

# A consume or restore that lost a race to a concurrent change of the same row decides again on a
# fresh read; this many times at most.
ATTEMPTS = 3


@dataclass
class Deps:
    uow: Callable[..., Any]  # PassUnitOfWork, or an in-memory fake in unit tests
    clock: Callable[[], datetime] = field(default=utcnow)
    new_id: Callable[[], uuid.UUID] = field(default=uuid.uuid4)


def concurrent_change(what: str) -> Aborted:
    return Aborted(f"{what} kept losing races to concurrent changes; retry", reason="CONCURRENT_CHANGE")


async def create_pass_product(cmd: CreatePassProduct, deps: Deps) -> PassProduct:
    product = PassProduct(
        deps.new_id(), cmd.company_id, cmd.name, cmd.sessions, cmd.validity_days, cmd.activity_ids, cmd.price,
        cmd.currency, deps.clock(),
    )  # fmt: skip
    async with deps.uow(autocommit=True) as uow:
        if await uow.products.create(product, cmd.request_id):
            return product
        found: PassProduct = await uow.products.by_request(cmd.request_id)
    if not found.same_request(product):
        raise key_reused("request_id", cmd.request_id)
    return found


async def get_pass_product(product_id: uuid.UUID, deps: Deps) -> PassProduct:
    async with deps.uow(read_only=True) as uow:
        found = await uow.products.get(product_id)
    if found is None:
        raise product_not_found(product_id)
    return found


async def issue_entitlement(cmd: IssueEntitlement, deps: Deps) -> Entitlement:
    async with deps.uow(autocommit=True) as uow:
        issued = await uow.entitlements.issue(
            deps.new_id(), cmd.request_id, cmd.product_id, cmd.customer_id, deps.clock()
        )
        if issued is not None:
            return issued
        found = await uow.entitlements.by_request(cmd.request_id)
    if found is None:
        raise product_not_found(cmd.product_id)
    return replayed_issue(found, cmd.product_id, cmd.customer_id, cmd.request_id)


async def get_entitlement(entitlement_id: uuid.UUID, deps: Deps) -> Entitlement:
    async with deps.uow(read_only=True) as uow:
        found = await uow.entitlements.get(entitlement_id)
    if found is None:
        raise entitlement_not_found(entitlement_id)
    return found


async def list_entitlements(q: ListEntitlements, deps: Deps) -> tuple[list[Entitlement], list | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.entitlements.of_customer(q.customer_id, q.company_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda e: [e.created_at.isoformat(), str(e.entitlement_id)])


async def consume_entitlement(cmd: SessionUse, deps: Deps) -> Consumption:
    """One statement takes the session; when it took nothing, one read says why (a replay, a refusal)
    or that a concurrent change has since made room (decide again)."""
    for _ in range(ATTEMPTS):
        now = deps.clock()
        async with deps.uow(autocommit=True) as uow:
            try:
                taken = await uow.usages.consume(cmd, now)
            except DuplicateUsage:  # a twin of this booking wrote its usage first
                taken = None
            if taken is not None:
                return Consumption(taken, cmd.usage(now))
            found, usage = await uow.usages.state(cmd.entitlement_id, cmd.booking_id)
        if usage is not None:  # the booking's usage: a replay, or refused
            if found is None or found.customer_id != cmd.customer_id:
                raise entitlement_not_found(cmd.entitlement_id)
            return Consumption(found, replayed_usage(usage, cmd))
        if (refusal := consume_refusal(found, cmd, now)) is not None:
            raise refusal
    raise concurrent_change("the consume")


async def restore_entitlement(cmd: RestoreEntitlement, deps: Deps) -> Restoration:
    """Restores the booking's consumed usage (one statement); otherwise answers what the booking's
    usage already says, or leaves a tombstone when it has none."""
    for _ in range(ATTEMPTS):
        now = deps.clock()
        async with deps.uow(autocommit=True) as uow:
            if (done := await uow.usages.restore(cmd.entitlement_id, cmd.booking_id, now)) is not None:
                return Restoration(done[1].status is UsageStatus.RESTORED, *done)
            found, usage = await uow.usages.state(cmd.entitlement_id, cmd.booking_id)
            if usage is None and found is not None:
                usage = await uow.usages.tombstone(cmd.entitlement_id, cmd.booking_id, now)
                if usage is None:  # a racing consume wrote the booking's usage first: restore it
                    continue
        if usage is not None and usage.entitlement_id != cmd.entitlement_id:
            raise key_reused("booking_id", cmd.booking_id)
        if usage is None or usage.status is not UsageStatus.CONSUMED:  # else consumed since the restore looked
            return Restoration(usage is not None and usage.status is UsageStatus.RESTORED, found, usage)
    raise concurrent_change("the restore")
