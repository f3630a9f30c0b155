"""In-memory fakes of the partner-network unit of work (the same answers as db.py's statements) and
of its ports: businesses (company currencies) and loyalty (a points ledger per member and issuer)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from services.chassis.errors import FailedPrecondition, NotFound, key_reused
from services.network.domain import Invitation, InvitationStatus, Membership, Network
from services.network.ports import LoyaltyRedemption
from services.network.settlement import Settlement
from tests.unit.fakes import FakeUnitOfWork, newest_first


@dataclass
class Store:
    networks: dict = field(default_factory=dict)  # network_id -> Network
    memberships: list = field(default_factory=list)  # Membership, in the order they began
    invitations: dict = field(default_factory=dict)  # invitation_id -> Invitation
    redemptions: dict = field(default_factory=dict)  # operation_id -> Redemption (with its transactions)
    settlements: list = field(default_factory=list)  # Settlement
    published: list = field(default_factory=list)  # events, once their transaction committed


class FakeNetworks:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def create(self, n: Network) -> bool:
        if any(o.request_id == n.request_id for o in self.s.networks.values()):
            return False
        self.s.networks[n.network_id] = n
        return True

    async def of_request(self, request_id):
        return next((n for n in self.s.networks.values() if n.request_id == request_id), None)

    async def get(self, network_id, lock=None):
        return self.s.networks.get(network_id)

    async def close_period(self, network_id, end):
        n = self.s.networks[network_id]
        self.s.networks[network_id] = replace(n, settled_through=max(end, n.settled_through or end))


class FakeMembers:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, m: Membership) -> bool:
        if any(o.network_id == m.network_id and o.company_id == m.company_id and o.current for o in self.s.memberships):
            return False
        self.s.memberships.append(m)
        return True

    async def of_network(self, network_id):
        return [m for m in self.s.memberships if m.network_id == network_id]

    async def of_invitation(self, invitation_id):
        return next((m for m in self.s.memberships if m.invitation_id == invitation_id), None)

    async def leave(self, network_id, company_id, now):
        for n, m in enumerate(self.s.memberships):
            if m.network_id == network_id and m.company_id == company_id and m.current:
                self.s.memberships[n] = left = replace(m, left_at=now)
                return left
        return None

    async def latest(self, network_id, company_id):
        mine = [m for m in self.s.memberships if (m.network_id, m.company_id) == (network_id, company_id)]
        return max(mine, key=lambda m: m.joined_at, default=None)


class FakeInvitations:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def get(self, invitation_id):
        return self.s.invitations.get(invitation_id)

    async def pending(self, network_id, company_id):
        return next(
            (
                i
                for i in self.s.invitations.values()
                if (i.network_id, i.invitee_company_id, i.status) == (network_id, company_id, InvitationStatus.PENDING)
            ),
            None,
        )

    async def add(self, i: Invitation) -> None:
        assert await self.pending(i.network_id, i.invitee_company_id) is None, "uq_invitations_pending"
        self.s.invitations[i.invitation_id] = i

    async def decide(self, invitation_id, status, now) -> None:
        self.s.invitations[invitation_id] = replace(self.s.invitations[invitation_id], status=status, decided_at=now)


class FakeRedemptions:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def add(self, r) -> bool:
        if r.operation_id in self.s.redemptions:
            return False
        self.s.redemptions[r.operation_id] = r
        return True

    async def get(self, operation_id):
        return self.s.redemptions.get(operation_id)

    def _all(self, network_id):
        return [t for r in self.s.redemptions.values() for t in r.transactions if t.network_id == network_id]

    async def between(self, network_id, start, end):
        return [t for t in self._all(network_id) if start <= t.settlement_date < end]

    async def page(self, network_id, position, limit):
        return newest_first(self._all(network_id), lambda t: t.occurred_at, lambda t: t.transaction_id, position, limit)


class FakeSettlements:
    def __init__(self, s: Store) -> None:
        self.s = s

    async def of_period(self, network_id, start, end):
        return next(
            (x for x in self.s.settlements if (x.network_id, x.period_start, x.period_end) == (network_id, start, end)),
            None,
        )

    async def overlapping(self, network_id, start, end) -> bool:
        return any(
            x.network_id == network_id and x.period_start < end and x.period_end > start for x in self.s.settlements
        )

    async def of_network(self, network_id):
        mine = [x for x in self.s.settlements if x.network_id == network_id]
        return sorted(mine, key=lambda x: x.period_start, reverse=True)

    async def add(self, x: Settlement) -> None:
        assert await self.of_period(x.network_id, x.period_start, x.period_end) is None, "uq_settlements_period"
        self.s.settlements.append(x)


class FakeNetworkUnitOfWork(FakeUnitOfWork):
    def bind(self, store) -> None:
        self.networks = FakeNetworks(store)
        self.members = FakeMembers(store)
        self.invitations = FakeInvitations(store)
        self.redemptions = FakeRedemptions(store)
        self.settlements = FakeSettlements(store)

    def publish(self, event, occurred) -> None:
        if self.autocommit:
            raise RuntimeError("an autocommit unit of work has no commit to add events to")
        self.work.published.append(event)


class FakeBusinesses:
    def __init__(self, currencies: dict[uuid.UUID, str] | None = None) -> None:
        self.currencies = dict(currencies or {})
        self.calls = 0

    async def currency_of(self, company_id: uuid.UUID) -> str:
        self.calls += 1
        if company_id not in self.currencies:
            raise NotFound(f"company {company_id} does not exist", reason="COMPANY_NOT_FOUND")
        return self.currencies[company_id]


@dataclass
class FakeLoyalty:
    """A points ledger: lots per (member, issuer) in the order earned, consumed first in first out;
    redemptions idempotent per operation_id (another body: IDEMPOTENCY_KEY_REUSED); a redemption is
    atomic (no await inside), so concurrent ones never overdraw."""

    point_values: dict = field(default_factory=dict)  # company_id -> (Decimal, currency)
    lots: dict = field(default_factory=dict)  # member_id -> list of [issuer, remaining]
    redeemed: dict = field(default_factory=dict)  # operation_id -> (request, LoyaltyRedemption, taken lots)
    reversed: set = field(default_factory=set)
    calls: list = field(default_factory=list)

    def earn(self, member_id: uuid.UUID, issuer: uuid.UUID, points: int) -> None:
        self.lots.setdefault(member_id, []).append([issuer, points])

    def balance(self, member_id: uuid.UUID, issuer: uuid.UUID | None = None) -> int:
        return sum(p for i, p in self.lots.get(member_id, []) if issuer in (None, i))

    async def redeemable(self, member_id, company_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        self.calls.append("redeemable")
        out: dict[uuid.UUID, int] = {}
        for issuer, points in self.lots.get(member_id, []):
            if issuer in company_ids:
                out[issuer] = out.get(issuer, 0) + points
        return out

    async def redeem(self, operation_id, member_id, company_id, points, issuer_company_ids) -> LoyaltyRedemption:
        self.calls.append("redeem")
        request = (member_id, company_id, points, tuple(sorted(issuer_company_ids)))
        if operation_id in self.redeemed:
            if self.redeemed[operation_id][0] != request:
                raise key_reused("operation_id", operation_id)
            return self.redeemed[operation_id][1]
        if company_id not in self.point_values:
            raise FailedPrecondition("no redeem rule", reason="NO_REDEEM_RULE")
        lots = [lot for lot in self.lots.get(member_id, []) if lot[0] in issuer_company_ids and lot[1] > 0]
        if sum(lot[1] for lot in lots) < points:
            raise FailedPrecondition("not enough points", reason="INSUFFICIENT_POINTS")
        by_issuer: dict[uuid.UUID, int] = {}
        taken, left = [], points
        for lot in lots:
            take = min(lot[1], left)
            lot[1] -= take
            left -= take
            taken.append((lot, take))
            by_issuer[lot[0]] = by_issuer.get(lot[0], 0) + take
            if not left:
                break
        value, currency = self.point_values[company_id]
        answer = LoyaltyRedemption(tuple(by_issuer.items()), Decimal(value), currency)
        self.redeemed[operation_id] = (request, answer, taken)
        return answer

    async def reverse(self, operation_id, redemption_operation_id) -> None:
        self.calls.append("reverse")
        if redemption_operation_id in self.reversed or redemption_operation_id not in self.redeemed:
            return
        self.reversed.add(redemption_operation_id)
        for lot, take in self.redeemed[redemption_operation_id][2]:
            lot[1] += take
