"""The rules' and the ledger's repository and the unit of work over db.py's and ledger_sql.py's
statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.chassis.db import UnitOfWork, page_params
from services.chassis.money import quantize
from services.chassis.pagination import Position
from services.loyalty import ledger_sql as sql
from services.loyalty.db import (
    EARN_RULE_FOR,
    EARN_RULES_OF,
    REDEEM_RULE_OF,
    SET_EARN_RULE,
    SET_REDEEM_RULE,
    SOURCE_HOLDER,
)
from services.loyalty.domain import EXCLUSIVE, Account, EarnRule, Kind, Lot, Move, RedeemRule, Source, Transaction
from services.loyalty.ports import RedeemLookup, ReversalLookup


def _rule(m) -> EarnRule:
    return EarnRule(
        m["company_id"], Source(m["source"]), m["category"], m["points_per_unit"], m["expiry_days"], m["updated_at"]
    )


def _redeem_rule(m, prefix: str = "") -> RedeemRule | None:
    if m[f"{prefix}company_id"] is None:
        return None
    point_value: Decimal = m[f"{prefix}point_value"]
    return RedeemRule(
        m[f"{prefix}company_id"], m[f"{prefix}currency"], point_value.normalize(), m[f"{prefix}updated_at"]
    )


def _lot(m) -> Lot:
    return Lot(
        m["lot_id"],
        m["member_id"],
        m["issuer_company_id"],
        m["points"],
        m["remaining"],
        m["expire_time"],
        m["created_at"],
        m["revoked"],
    )


def _money(value: Decimal | None, currency: str | None) -> Decimal | None:
    return None if value is None or not currency else quantize(value, currency)


def _transaction(m, prefix: str = "") -> Transaction | None:
    def f(name: str) -> Any:
        return m[f"{prefix}{name}"]

    if f("operation_id") is None:
        return None
    currency = f("currency") or ""
    point_value = f("point_value")
    return Transaction(
        f("operation_id"),
        Kind(f("kind")),
        f("member_id"),
        f("company_id"),
        f("points"),
        tuple((uuid.UUID(issuer), points) for issuer, points in f("by_issuer")),
        f("created_at"),
        f("request"),
        Source(f("source")) if f("source") else None,
        f("category") or "",
        _money(f("amount"), currency),
        currency,
        f("expire_time"),
        point_value.normalize() if point_value is not None else None,
        _money(f("value"), currency),
        f("reverses_operation_id"),
        f("shortfall"),
    )


def _transaction_params(t: Transaction) -> dict[str, Any]:
    values = {
        "operation_id": t.operation_id,
        "kind": t.kind.value,
        "member_id": t.member_id,
        "company_id": t.company_id,
        "points": t.points,
        "by_issuer": [[str(issuer), points] for issuer, points in t.by_issuer],
        "request": t.request,
        "source": t.source.value if t.source else None,
        "category": t.category if t.kind is Kind.EARN else None,
        "amount": t.amount,
        "currency": t.currency or None,
        "expire_time": t.expire_time,
        "point_value": t.point_value,
        "value": t.value,
        "reverses_operation_id": t.reverses_operation_id,
        "shortfall": t.shortfall,
        "created_at": t.created_at,
    }
    return {f"t_{k}": v for k, v in values.items()}


class LoyaltyRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def _one(self, statement, params: dict[str, Any]):
        row = (await self.conn.execute(statement, params)).first()
        return row._mapping if row else None

    # --- rules ---
    async def set_earn_rule(self, rule: EarnRule) -> EarnRule | None:
        """The rule as saved, or None when another company holds its (exclusive) source."""
        params = {
            "e_company": rule.company_id,
            "e_source": rule.source.value,
            "e_category": rule.category,
            "e_points_per_unit": rule.points_per_unit,
            "e_expiry_days": rule.expiry_days,
            "e_now": rule.updated_at,
            "e_exclusive": rule.source in EXCLUSIVE,
        }
        m = await self._one(SET_EARN_RULE, params)
        return _rule(m) if m else None

    async def source_holder(self, source: Source) -> uuid.UUID | None:
        m = await self._one(SOURCE_HOLDER, {"h_source": source.value})
        return m["company_id"] if m else None

    async def set_redeem_rule(self, rule: RedeemRule) -> RedeemRule:
        params = {
            "d_company": rule.company_id,
            "d_currency": rule.currency,
            "d_point_value": rule.point_value,
            "d_now": rule.updated_at,
        }
        saved = _redeem_rule(await self._one(SET_REDEEM_RULE, params))
        assert saved is not None
        return saved

    async def rules(self, company_id: uuid.UUID) -> tuple[list[EarnRule], RedeemRule | None]:
        earn = [_rule(row._mapping) for row in await self.conn.execute(EARN_RULES_OF, {"q_company": company_id})]
        m = await self._one(REDEEM_RULE_OF, {"q_company": company_id})
        return earn, _redeem_rule(m) if m else None

    async def earn_rule(self, company_id: uuid.UUID, source: Source, category: str) -> EarnRule | None:
        m = await self._one(EARN_RULE_FOR, {"f_company": company_id, "f_source": source.value, "f_category": category})
        return _rule(m) if m else None

    # --- the ledger ---
    async def transaction(self, operation_id: uuid.UUID) -> Transaction | None:
        m = await self._one(sql.TRANSACTION, {"o_operation": operation_id})
        return _transaction(m) if m else None

    async def earn(self, t: Transaction) -> bool:
        """Writes the earning (and its lot when it earned points); False when its operation_id is taken."""
        return await self._one(sql.EARN, _transaction_params(t)) is not None

    async def record(self, t: Transaction, moves: list[Move]) -> bool:
        """Writes the transaction and its moves of lots; False (nothing written) when it is taken."""
        params = _transaction_params(t) | {
            "m_lots": [m.lot_id for m in moves],
            "m_issuers": [m.issuer_company_id for m in moves],
            "m_deltas": [m.delta for m in moves],
            "m_revoke": [m.revoke for m in moves],
        }
        return await self._one(sql.RECORD, params) is not None

    async def void(self, operation_id: uuid.UUID, target: uuid.UUID, request: str, now: datetime) -> Transaction | None:
        params = {"v_operation": operation_id, "v_target": target, "v_request": request, "v_now": now}
        m = await self._one(sql.VOID, params)
        return _transaction(m) if m else None

    async def lock_account(self, member_id: uuid.UUID, now: datetime) -> None:
        await self.conn.execute(sql.LOCK_ACCOUNT, {"a_member": member_id, "a_now": now})

    async def account(self, member_id: uuid.UUID, issuers: frozenset[uuid.UUID], now: datetime) -> Account:
        params = {"a_member": member_id, "a_now": now, "a_issuers": sorted(issuers)}
        rows = [tuple(row) for row in await self.conn.execute(sql.ACCOUNT, params)]
        expiries = [expires for _, _, expires in rows if expires is not None]
        return Account(member_id, tuple((i, int(p)) for i, p, _ in rows), min(expiries) if expiries else None)

    async def redeemable_lots(self, member_id: uuid.UUID, issuers: frozenset[uuid.UUID], now: datetime) -> list[Lot]:
        params = {"a_member": member_id, "a_now": now, "a_issuers": sorted(issuers)}
        return [_lot(row._mapping) for row in await self.conn.execute(sql.REDEEMABLE, params)]

    async def lots(self, lot_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lot]:
        return {
            (lot := _lot(row._mapping)).lot_id: lot for row in await self.conn.execute(sql.LOTS, {"k_lots": lot_ids})
        }

    async def moves_of(self, operation_id: uuid.UUID) -> list[Move]:
        rows = await self.conn.execute(sql.ENTRIES_OF, {"n_operation": operation_id})
        return [Move(m["lot_id"], m["issuer_company_id"], m["points"]) for m in (row._mapping for row in rows)]

    async def redeem_lookup(self, operation_id: uuid.UUID, company_id: uuid.UUID) -> RedeemLookup:
        m = await self._one(sql.REDEEM_LOOKUP, {"o_operation": operation_id, "o_company": company_id})
        return RedeemLookup(_transaction(m, "t_"), _redeem_rule(m, "r_"))

    async def reversal_lookup(self, operation_id: uuid.UUID, target: uuid.UUID) -> ReversalLookup:
        rows = await self.conn.execute(sql.REVERSAL_LOOKUP, {"q_operation": operation_id, "q_target": target})
        found = [t for row in rows if (t := _transaction(row._mapping)) is not None]

        def first(test) -> Transaction | None:
            return next((t for t in found if test(t)), None)

        return ReversalLookup(
            first(lambda t: t.operation_id == operation_id),
            first(lambda t: t.operation_id == target),
            first(lambda t: t.reverses_operation_id == target),
        )

    async def expiring(self, now: datetime, batch: int) -> list[Lot]:
        """The expired lots with points left of up to `batch` members, whose accounts it locks
        (skipping members another transaction holds)."""
        members = [row[0] for row in await self.conn.execute(sql.EXPIRING_MEMBERS, {"x_now": now, "x_batch": batch})]
        if not members:
            return []
        rows = await self.conn.execute(sql.EXPIRED_LOTS, {"x_members": members, "x_now": now})
        return [_lot(row._mapping) for row in rows]

    async def transactions(self, member_id: uuid.UUID, position: Position | None, limit: int) -> list[Transaction]:
        statement = sql.PAGE if position is None else sql.PAGE_AFTER
        params = {"page_member": member_id, **page_params(position, limit)}
        return [t for row in await self.conn.execute(statement, params) if (t := _transaction(row._mapping))]


class LoyaltyUnitOfWork(UnitOfWork):
    loyalty: LoyaltyRepository

    def bind(self, conn) -> None:
        self.loyalty = LoyaltyRepository(conn)
