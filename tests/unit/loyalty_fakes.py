"""In-memory fakes of the loyalty unit of work: the same answers as db.py's and ledger_sql.py's
statements (a taken operation_id writes nothing, lots never below zero nor above what was earned)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from services.loyalty.domain import EXCLUSIVE, Account, Kind, Lot, Move, Transaction
from services.loyalty.ports import RedeemLookup, ReversalLookup
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    earn_rules: dict = field(default_factory=dict)  # (company, source, category) -> EarnRule
    holders: dict = field(default_factory=dict)  # source -> company_id
    redeem_rules: dict = field(default_factory=dict)  # company_id -> RedeemRule
    transactions: dict = field(default_factory=dict)  # operation_id -> Transaction
    lots: dict = field(default_factory=dict)  # lot_id -> Lot
    entries: list = field(default_factory=list)  # (operation_id, Move)
    published: list = field(default_factory=list)  # events, once their transaction committed


class FakeLoyalty:
    def __init__(self, store: Store) -> None:
        self.s = store

    async def set_earn_rule(self, rule):
        if rule.source in EXCLUSIVE and self.s.holders.setdefault(rule.source, rule.company_id) != rule.company_id:
            return None
        self.s.earn_rules[(rule.company_id, rule.source, rule.category)] = rule
        return rule

    async def source_holder(self, source):
        return self.s.holders.get(source)

    async def set_redeem_rule(self, rule):
        self.s.redeem_rules[rule.company_id] = rule
        return rule

    async def rules(self, company_id):
        earn = sorted(
            (r for k, r in self.s.earn_rules.items() if k[0] == company_id), key=lambda r: (r.source, r.category)
        )
        return earn, self.s.redeem_rules.get(company_id)

    async def earn_rule(self, company_id, source, category):
        rules = self.s.earn_rules
        return rules.get((company_id, source, category)) or rules.get((company_id, source, ""))

    async def transaction(self, operation_id):
        return self.s.transactions.get(operation_id)

    def _taken(self, t: Transaction) -> bool:
        reverses = t.reverses_operation_id
        return t.operation_id in self.s.transactions or (
            reverses is not None and any(x.reverses_operation_id == reverses for x in self.s.transactions.values())
        )

    async def earn(self, t: Transaction) -> bool:
        if self._taken(t):
            return False
        self.s.transactions[t.operation_id] = t
        if t.points:
            assert t.member_id is not None and t.company_id is not None
            lot = Lot(t.operation_id, t.member_id, t.company_id, t.points, t.points, t.expire_time, t.created_at)
            self.s.lots[lot.lot_id] = lot
            self.s.entries.append((t.operation_id, Move(lot.lot_id, lot.issuer_company_id, t.points)))
        return True

    async def record(self, t: Transaction, moves: list[Move]) -> bool:
        if self._taken(t):
            return False
        self.s.transactions[t.operation_id] = t
        for move in moves:
            lot = self.s.lots[move.lot_id]
            moved = replace(lot, remaining=lot.remaining + move.delta, revoked=lot.revoked or move.revoke)
            assert 0 <= moved.remaining <= moved.points, "ck_lots_remaining"
            self.s.lots[lot.lot_id] = moved
            if move.delta:
                self.s.entries.append((t.operation_id, move))
        return True

    async def void(self, operation_id, target, request, now):
        if operation_id in self.s.transactions or target in self.s.transactions:
            return None
        self.s.transactions[target] = Transaction(target, Kind.VOIDED, None, None, 0, (), now)
        reversal = Transaction(
            operation_id, Kind.REVERSAL, None, None, 0, (), now, request, reverses_operation_id=target
        )
        self.s.transactions[operation_id] = reversal
        return reversal

    async def lock_account(self, member_id, now) -> None:
        pass  # one coroutine at a time touches the store

    def _live(self, member_id, issuers, now) -> list[Lot]:
        return [
            lot
            for lot in self.s.lots.values()
            if lot.member_id == member_id and lot.remaining > 0 and lot.live(now)
            if not issuers or lot.issuer_company_id in issuers
        ]

    async def account(self, member_id, issuers, now) -> Account:
        totals: dict = {}
        for lot in self._live(member_id, issuers, now):
            totals[lot.issuer_company_id] = totals.get(lot.issuer_company_id, 0) + lot.remaining
        expiries = [lot.expire_time for lot in self._live(member_id, issuers, now) if lot.expire_time]
        return Account(member_id, tuple(sorted(totals.items(), key=lambda i: str(i[0]))), min(expiries, default=None))

    async def redeemable_lots(self, member_id, issuers, now) -> list[Lot]:
        return sorted(self._live(member_id, issuers, now), key=lambda lot: lot.fifo_key)

    async def lots(self, lot_ids) -> dict:
        return {i: self.s.lots[i] for i in lot_ids if i in self.s.lots}

    async def moves_of(self, operation_id) -> list[Move]:
        return [move for op, move in self.s.entries if op == operation_id]

    async def redeem_lookup(self, operation_id, company_id) -> RedeemLookup:
        return RedeemLookup(self.s.transactions.get(operation_id), self.s.redeem_rules.get(company_id))

    async def reversal_lookup(self, operation_id, target) -> ReversalLookup:
        reversals = [t for t in self.s.transactions.values() if t.reverses_operation_id == target]
        return ReversalLookup(
            self.s.transactions.get(operation_id), self.s.transactions.get(target), reversals[0] if reversals else None
        )

    async def expiring(self, now, batch) -> list[Lot]:
        expired = [lot for lot in self.s.lots.values() if lot.remaining > 0 and not lot.live(now)]
        members = sorted({lot.member_id for lot in expired}, key=str)[:batch]
        return [lot for lot in expired if lot.member_id in members]

    async def transactions(self, member_id, position, limit) -> list[Transaction]:
        mine = [t for t in self.s.transactions.values() if t.member_id == member_id]
        return newest_first(mine, lambda t: t.created_at, lambda t: t.operation_id, position, limit)


class FakeLoyaltyUnitOfWork(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.loyalty = FakeLoyalty(store)

    def publish(self, event, occurred) -> None:
        if self.autocommit:
            raise RuntimeError("an autocommit unit of work has no commit to add events to")
        self.work.published.append(event)
