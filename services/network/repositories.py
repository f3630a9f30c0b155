"""Repositories and the unit of work over db.py's statements: row <-> domain mapping."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.chassis.db import UnitOfWork, page_params
from services.chassis.money import quantize
from services.chassis.pagination import Position as PagePosition
from services.network import db
from services.network.domain import (
    CrossBusinessTransaction,
    Invitation,
    InvitationStatus,
    Membership,
    Network,
    Redemption,
)
from services.network.settlement import Position, Settlement, Transfer


def _network(m) -> Network:
    return Network(
        m["network_id"], m["request_id"], m["name"], m["currency"], m["founder_company_id"], m["created_at"],
        m["settled_through"],
    )  # fmt: skip


def _membership(m) -> Membership:
    return Membership(
        m["membership_id"], m["network_id"], m["company_id"], m["joined_at"], m["left_at"], m["invitation_id"]
    )


def _invitation(m) -> Invitation:
    return Invitation(
        m["invitation_id"],
        m["network_id"],
        m["inviter_company_id"],
        m["invitee_company_id"],
        InvitationStatus(m["status"]),
        m["created_at"],
        m["expire_at"],
        m["decided_at"],
    )


def _transaction(m) -> CrossBusinessTransaction:
    cur = m["currency"]
    return CrossBusinessTransaction(
        m["transaction_id"],
        m["operation_id"],
        m["network_id"],
        m["issuer_company_id"],
        m["redeemer_company_id"],
        m["member_id"],
        m["points"],
        m["point_value"].normalize(),
        quantize(m["value"], cur),
        cur,
        m["occurred_at"],
        m["settlement_date"],
    )


class NetworkRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def create(self, n: Network) -> bool:
        """Inserts the network; False when its request_id has one already (a first call, or a twin)."""
        return (await self.conn.execute(db.CREATE_NETWORK, asdict(n))).first() is not None

    async def of_request(self, request_id: uuid.UUID) -> Network | None:
        row = (await self.conn.execute(db.NETWORK_OF_REQUEST, {"request": request_id})).first()
        return _network(row._mapping) if row else None

    async def get(self, network_id: uuid.UUID, lock: str | None = None) -> Network | None:
        """`lock`: "update" (membership changes, settlements) or "share" (a redemption's write)."""
        statement = {None: db.GET_NETWORK, "update": db.LOCK_NETWORK, "share": db.SHARE_NETWORK}[lock]
        row = (await self.conn.execute(statement, {"network": network_id})).first()
        return _network(row._mapping) if row else None

    async def close_period(self, network_id: uuid.UUID, end: date) -> None:
        """Its settled periods now reach `end` (never back): later transactions of earlier days roll on."""
        await self.conn.execute(db.CLOSE_PERIOD, {"network": network_id, "end": end})


class MembershipRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, m: Membership) -> bool:
        """False when the company is a current member already (nothing written)."""
        return (await self.conn.execute(db.ADD_MEMBERSHIP, asdict(m))).first() is not None

    async def of_network(self, network_id: uuid.UUID) -> list[Membership]:
        return [_membership(r._mapping) for r in await self.conn.execute(db.MEMBERSHIPS, {"network": network_id})]

    async def of_invitation(self, invitation_id: uuid.UUID) -> Membership | None:
        row = (await self.conn.execute(db.MEMBERSHIP_OF_INVITATION, {"invitation": invitation_id})).first()
        return _membership(row._mapping) if row else None

    async def leave(self, network_id: uuid.UUID, company_id: uuid.UUID, now: datetime) -> Membership | None:
        """Ends the current membership; None when there is none."""
        params = {"network": network_id, "company": company_id, "now": now}
        row = (await self.conn.execute(db.LEAVE, params)).first()
        return _membership(row._mapping) if row else None

    async def latest(self, network_id: uuid.UUID, company_id: uuid.UUID) -> Membership | None:
        params = {"network": network_id, "company": company_id}
        row = (await self.conn.execute(db.LATEST_MEMBERSHIP, params)).first()
        return _membership(row._mapping) if row else None


class InvitationRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def get(self, invitation_id: uuid.UUID) -> Invitation | None:
        row = (await self.conn.execute(db.GET_INVITATION, {"invitation": invitation_id})).first()
        return _invitation(row._mapping) if row else None

    async def pending(self, network_id: uuid.UUID, company_id: uuid.UUID) -> Invitation | None:
        """The invitation stored as pending (it may have expired by now)."""
        row = (await self.conn.execute(db.PENDING_INVITATION, {"network": network_id, "company": company_id})).first()
        return _invitation(row._mapping) if row else None

    async def add(self, i: Invitation) -> None:
        await self.conn.execute(db.ADD_INVITATION, {**asdict(i), "status": i.status.value})

    async def decide(self, invitation_id: uuid.UUID, status: InvitationStatus, now: datetime) -> None:
        params = {"invitation": invitation_id, "status": status.value, "now": now}
        await self.conn.execute(db.DECIDE_INVITATION, params)


class RedemptionRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def add(self, r: Redemption) -> bool:
        """Writes the redemption and its transactions; False when its operation_id has one already."""
        row = {k: v for k, v in asdict(r).items() if k != "transactions"}
        if (await self.conn.execute(db.ADD_REDEMPTION, row)).first() is None:
            return False
        if r.transactions:
            await self.conn.execute(db.ADD_TRANSACTIONS, [asdict(t) for t in r.transactions])
        return True

    async def get(self, operation_id: uuid.UUID) -> Redemption | None:
        row = (await self.conn.execute(db.GET_REDEMPTION, {"operation": operation_id})).first()
        if row is None:
            return None
        m = row._mapping
        made = await self.conn.execute(db.TRANSACTIONS_OF_REDEMPTION, {"operation": operation_id})
        return Redemption(
            m["operation_id"],
            m["network_id"],
            m["member_id"],
            m["company_id"],
            m["points"],
            quantize(m["value"], m["currency"]),
            m["currency"],
            m["occurred_at"],
            tuple(_transaction(t._mapping) for t in made),
        )

    async def between(self, network_id: uuid.UUID, start: date, end: date) -> list[CrossBusinessTransaction]:
        """The transactions whose settlement date is in [start, end)."""
        params = {"network": network_id, "start": start, "end": end}
        return [_transaction(r._mapping) for r in await self.conn.execute(db.TRANSACTIONS_BETWEEN, params)]

    async def page(
        self, network_id: uuid.UUID, position: PagePosition | None, limit: int
    ) -> list[CrossBusinessTransaction]:
        statement = db.TRANSACTION_PAGE if position is None else db.TRANSACTION_PAGE_AFTER
        params = {"page_network": network_id, **page_params(position, limit)}
        return [_transaction(r._mapping) for r in await self.conn.execute(statement, params)]


class SettlementRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def of_period(self, network_id: uuid.UUID, start: date, end: date) -> Settlement | None:
        params = {"network": network_id, "start": start, "end": end}
        found = await self._complete(await self.conn.execute(db.SETTLEMENT_OF_PERIOD, params))
        return found[0] if found else None

    async def overlapping(self, network_id: uuid.UUID, start: date, end: date) -> bool:
        params = {"network": network_id, "start": start, "end": end}
        return (await self.conn.execute(db.OVERLAPPING_SETTLEMENT, params)).first() is not None

    async def of_network(self, network_id: uuid.UUID) -> list[Settlement]:
        return await self._complete(await self.conn.execute(db.SETTLEMENTS, {"network": network_id}))

    async def add(self, s: Settlement) -> None:
        head = {k: v for k, v in asdict(s).items() if k not in ("positions", "transfers")}
        await self.conn.execute(db.ADD_SETTLEMENT, head)
        if s.positions:
            rows = [{"settlement_id": s.settlement_id, **asdict(p)} for p in s.positions]
            await self.conn.execute(db.ADD_POSITIONS, rows)
        if s.transfers:
            rows = [{"settlement_id": s.settlement_id, "seq": n, **asdict(t)} for n, t in enumerate(s.transfers)]
            await self.conn.execute(db.ADD_TRANSFERS, rows)

    async def _complete(self, rows) -> list[Settlement]:
        heads = [r._mapping for r in rows]
        if not heads:
            return []
        ids = {"settlements": [h["settlement_id"] for h in heads]}
        currency = {h["settlement_id"]: h["currency"] for h in heads}
        positions: dict[uuid.UUID, list[Position]] = {}
        for r in await self.conn.execute(db.POSITIONS, ids):
            m, cur = r._mapping, currency[r.settlement_id]
            positions.setdefault(m["settlement_id"], []).append(
                Position(m["company_id"], quantize(m["receivable"], cur), quantize(m["payable"], cur))
            )
        transfers: dict[uuid.UUID, list[Transfer]] = {}
        for r in await self.conn.execute(db.TRANSFERS, ids):
            m, cur = r._mapping, currency[r.settlement_id]
            transfers.setdefault(m["settlement_id"], []).append(
                Transfer(m["from_company_id"], m["to_company_id"], quantize(m["amount"], cur))
            )
        return [
            _settlement(h, positions.get(h["settlement_id"], []), transfers.get(h["settlement_id"], [])) for h in heads
        ]


def _settlement(h: Any, positions: list[Position], transfers: list[Transfer]) -> Settlement:
    return Settlement(
        h["settlement_id"],
        h["network_id"],
        h["period_start"],
        h["period_end"],
        h["currency"],
        tuple(positions),
        tuple(transfers),
        h["transaction_count"],
        h["created_at"],
    )


class NetworkUnitOfWork(UnitOfWork):
    networks: NetworkRepository
    members: MembershipRepository
    invitations: InvitationRepository
    redemptions: RedemptionRepository
    settlements: SettlementRepository

    def bind(self, conn) -> None:
        self.networks = NetworkRepository(conn)
        self.members = MembershipRepository(conn)
        self.invitations = InvitationRepository(conn)
        self.redemptions = RedemptionRepository(conn)
        self.settlements = SettlementRepository(conn)
