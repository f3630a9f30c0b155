"""Wallet use cases: (command, deps) -> result. Each write is one statement (a top-up adds its outbox
row in the same transaction); a write that wrote nothing is explained by one read."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.errors import Aborted
from services.chassis.pagination import Position, page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.wallet import events
from services.wallet.commands import Debit, ListTransactions, Refund, TopUp
from services.wallet.domain import ZERO, Kind, Transaction, Wallet, currency_mismatch, debit_refused, refund_answer

# A write that wrote nothing and finds no reason why (a racing write changed what it depends on) is
# tried again, this many times in all.
ATTEMPTS = 3


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # WalletUnitOfWork, or an in-memory fake in unit tests
    clock: Callable[[], datetime] = field(default=utcnow)


def _kept_changing(what: str) -> Aborted:
    return Aborted(f"the {what} kept racing with other writes; retry", reason="CONCURRENT_CHANGE")


async def get_wallet(customer_id: uuid.UUID, company_id: uuid.UUID, deps: Deps) -> Wallet:
    async with deps.uow(read_only=True) as uow:
        found = await uow.wallets.lookup(customer_id, company_id)
    wallet: Wallet = found.wallet
    return wallet


async def top_up(cmd: TopUp, deps: Deps) -> tuple[Wallet, Transaction]:
    """The entry, the wallet's balances and WalletToppedUp in one transaction; a repeat answers the
    stored entry with the wallet as it stands, and publishes nothing."""
    entry = Transaction(
        cmd.operation_id, Kind.TOP_UP, cmd.customer_id, cmd.company_id, cmd.currency, cmd.cash, cmd.bonus, deps.clock()
    )
    for _ in range(ATTEMPTS):
        async with deps.uow() as uow:
            wallet = await uow.wallets.top_up(entry)
            if wallet is not None:
                uow.publish(events.topped_up(entry, wallet), entry.created_at)
                return wallet, entry
            found = await uow.wallets.lookup(cmd.customer_id, cmd.company_id, cmd.operation_id)
        if found.entry is not None:
            return found.wallet, found.entry.answering(entry)
        if found.wallet.currency and found.wallet.currency != cmd.currency:
            raise currency_mismatch(cmd.company_id, found.wallet.currency, cmd.currency)
        # a concurrent first top-up of the company was fixing its currency: again, on a fresh snapshot
    raise _kept_changing("top-up")


async def debit(cmd: Debit, deps: Deps) -> tuple[Transaction, Wallet]:
    """Bonus first, then cash, in one statement under the wallet row's lock; nothing is written when
    the wallet cannot pay. A repeat answers the stored entry."""
    wanted = Transaction(
        cmd.operation_id, Kind.DEBIT, cmd.customer_id, cmd.company_id, cmd.currency, cmd.amount, ZERO, deps.clock()
    )
    async with deps.uow(autocommit=True) as uow:
        for _ in range(ATTEMPTS):
            if (done := await uow.wallets.debit(wanted)) is not None:
                return done
            found = await uow.wallets.lookup(cmd.customer_id, cmd.company_id, cmd.operation_id)
            if found.entry is not None:
                return found.entry.answering(wanted), found.wallet
            if (refusal := debit_refused(found.wallet, cmd.currency, cmd.amount)) is not None:
                raise refusal
    raise _kept_changing("debit")


async def refund(cmd: Refund, deps: Deps) -> tuple[Transaction, Wallet | None]:
    """What the debit took, given back in one statement; an unknown debit is voided (tombstone) and
    answered with a refund of nothing. A repeat, or another refund of the same debit, answers the
    refund made; the wallet is None when nothing moved."""
    async with deps.uow(autocommit=True) as uow:
        for _ in range(ATTEMPTS):
            if (done := await uow.wallets.refund(cmd.operation_id, cmd.debit_operation_id, deps.clock())) is not None:
                return done
            found = await uow.wallets.refund_lookup(cmd.operation_id, cmd.debit_operation_id)
            answer = refund_answer(
                cmd.operation_id, cmd.debit_operation_id, found.entry, found.refund_of_debit, found.debit
            )
            if answer is not None:
                return answer, await _wallet_of(uow, answer)
    raise _kept_changing("refund")


async def _wallet_of(uow, entry: Transaction) -> Wallet | None:
    if entry.customer_id is None or entry.company_id is None:
        return None
    return (await uow.wallets.lookup(entry.customer_id, entry.company_id)).wallet


async def list_transactions(q: ListTransactions, deps: Deps) -> tuple[list[Transaction], Position | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.wallets.transactions(q.customer_id, q.company_id, q.position, q.limit)
    return page_of(rows, q.limit, lambda e: [e.created_at.isoformat(), str(e.operation_id)])
