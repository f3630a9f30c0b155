"""Partner-network use cases: (command, deps) -> result. Membership changes and settlements lock the
network's row (db.py), so they run one at a time per network; businesses and loyalty are called with
no transaction open. Redemptions and settlements: redemptions.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.network import events
from services.network.commands import CreateNetwork, InviteBusiness, LeaveNetwork, ListMembers
from services.network.domain import (
    Invitation,
    InvitationStatus,
    Membership,
    Network,
    already_member,
    currency_mismatch,
    invitation_not_found,
    member_not_found,
    network_not_found,
    not_a_member,
)
from services.network.ports import Businesses, Loyalty


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # NetworkUnitOfWork, or an in-memory fake in unit tests
    businesses: Businesses
    loyalty: Loyalty
    clock: Callable[[], datetime] = field(default=utcnow)


async def existing_network(uow, network_id: uuid.UUID, lock: str | None = None) -> Network:
    if (found := await uow.networks.get(network_id, lock)) is None:
        raise network_not_found(network_id)
    return found


async def create_network(cmd: CreateNetwork, deps: Deps) -> Network:
    """The network, its founder's membership and NetworkCreated in one transaction; a repeat of the
    request_id answers the network made (a twin waits for the first's commit, then finds it)."""
    currency = await deps.businesses.currency_of(cmd.founder_company_id)
    if currency != cmd.currency:
        raise currency_mismatch(cmd.founder_company_id, currency, cmd.currency)
    now = deps.clock()
    network = Network(uuid.uuid4(), cmd.request_id, cmd.name, cmd.currency, cmd.founder_company_id, now)
    async with deps.uow() as uow:
        if await uow.networks.create(network):
            await uow.members.add(Membership(uuid.uuid4(), network.network_id, cmd.founder_company_id, now))
            uow.publish(events.network_created(network), now)
            return network
        stored: Network = await uow.networks.of_request(cmd.request_id)
    return stored.answering(cmd.name, cmd.currency, cmd.founder_company_id)


async def get_network(network_id: uuid.UUID, deps: Deps) -> Network:
    async with deps.uow(read_only=True) as uow:
        return await existing_network(uow, network_id)


async def list_members(q: ListMembers, deps: Deps) -> list[Membership]:
    async with deps.uow(read_only=True) as uow:
        await existing_network(uow, q.network_id)
        found: list[Membership] = await uow.members.of_network(q.network_id)
    return [m for m in found if q.include_left or m.current]


async def leave_network(cmd: LeaveNetwork, deps: Deps) -> Membership:
    """Ends the membership and publishes PartnerLeft; leaving again answers the ended membership."""
    now = deps.clock()
    async with deps.uow() as uow:
        await existing_network(uow, cmd.network_id, "update")
        if (left := await uow.members.leave(cmd.network_id, cmd.company_id, now)) is not None:
            uow.publish(events.partner_left(left), now)
            return left
        latest: Membership | None = await uow.members.latest(cmd.network_id, cmd.company_id)
    if latest is None:
        raise member_not_found(cmd.network_id, cmd.company_id)
    return latest


async def invite_business(cmd: InviteBusiness, deps: Deps) -> Invitation:
    """A new pending invitation, or the invitee's open one. A pending one that expired is marked so,
    and replaced."""
    currency = await deps.businesses.currency_of(cmd.invitee_company_id)
    now = deps.clock()
    async with deps.uow() as uow:
        network = await existing_network(uow, cmd.network_id, "update")
        current = {m.company_id for m in await uow.members.of_network(cmd.network_id) if m.current}
        if cmd.inviter_company_id not in current:
            raise not_a_member(cmd.network_id, cmd.inviter_company_id)
        if cmd.invitee_company_id in current:
            raise already_member(cmd.network_id, cmd.invitee_company_id)
        if currency != network.currency:
            raise currency_mismatch(cmd.invitee_company_id, currency, network.currency)
        pending: Invitation | None = await uow.invitations.pending(cmd.network_id, cmd.invitee_company_id)
        if pending is not None and pending.open_at(now):
            return pending
        if pending is not None:
            await uow.invitations.decide(pending.invitation_id, InvitationStatus.EXPIRED, now)
        invitation = Invitation(
            uuid.uuid4(),
            cmd.network_id,
            cmd.inviter_company_id,
            cmd.invitee_company_id,
            InvitationStatus.PENDING,
            now,
            now + cmd.ttl,
        )
        await uow.invitations.add(invitation)
    return invitation


async def _locked_invitation(uow, invitation_id: uuid.UUID) -> Invitation:
    """The invitation as it stands once its network is locked (a decision racing this one is done)."""
    if (seen := await uow.invitations.get(invitation_id)) is None:
        raise invitation_not_found(invitation_id)
    await existing_network(uow, seen.network_id, "update")
    found: Invitation = await uow.invitations.get(invitation_id)
    return found


async def accept_invitation(invitation_id: uuid.UUID, deps: Deps) -> tuple[Membership, Invitation]:
    """The membership and PartnerJoined in one transaction; accepting again answers the same
    membership and publishes nothing."""
    now = deps.clock()
    async with deps.uow() as uow:
        invitation = await _locked_invitation(uow, invitation_id)
        if invitation.status is InvitationStatus.ACCEPTED:
            return await uow.members.of_invitation(invitation_id), invitation
        accepted = invitation.decided(InvitationStatus.ACCEPTED, now)
        membership = Membership(
            uuid.uuid4(), accepted.network_id, accepted.invitee_company_id, now, None, invitation_id
        )
        if not await uow.members.add(membership):
            raise already_member(accepted.network_id, accepted.invitee_company_id)
        await uow.invitations.decide(invitation_id, InvitationStatus.ACCEPTED, now)
        uow.publish(events.partner_joined(membership, accepted), now)
    return membership, accepted


async def decline_invitation(invitation_id: uuid.UUID, deps: Deps) -> Invitation:
    now = deps.clock()
    async with deps.uow() as uow:
        invitation = await _locked_invitation(uow, invitation_id)
        if invitation.status is InvitationStatus.DECLINED:
            return invitation
        declined = invitation.decided(InvitationStatus.DECLINED, now)
        await uow.invitations.decide(invitation_id, InvitationStatus.DECLINED, now)
    return declined
