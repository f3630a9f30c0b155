"""Partner use cases. Booking creation runs the pipeline saga behind a per-partner idempotency key;
registration may run behind one of the admin's."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from services.chassis.errors import NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaFailed, SagaRunner
from services.chassis.uow import UnitOfWorkFactory
from services.partners.auth import Caller
from services.partners.commands import NewBooking, NewPartner
from services.partners.domain import BookingStatus, Partner, PartnerBooking, issue_key, key_digest
from services.partners.idempotency import Claim, claim_or_replay, release_quietly
from services.partners.pipeline import SAGA
from services.partners.ports import CommissionLedger, ReservationDesk
from services.partners.saga_state import BookingSagaState

log = logging.getLogger("novatrek.partners")
T = TypeVar("T")


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # PartnerUnitOfWork, or an in-memory fake in unit tests
    sagas: SagaRunner
    reservations: ReservationDesk
    ledger: CommissionLedger
    pepper: bytes
    key_grace: timedelta = timedelta(hours=24)
    idempotency_retention: timedelta = timedelta(hours=24)
    clock: Callable[[], datetime] = field(default=utcnow)


async def register_partner(cmd: NewPartner, deps: Deps, claim: Claim | None = None) -> tuple[Partner, str]:
    """The new partner and its API key. Under a `claim` already answered: that partner, as it is now,
    and no key (only its digest is kept: it is shown once; a lost one is replaced by a rotation)."""
    if claim is not None and (earlier := await claim_or_replay(claim, deps)) is not None:
        return await get_partner(_answer(earlier.partner_id, claim.key), deps), ""
    partner, api_key = _new_partner(cmd, deps)
    try:
        async with deps.uow() as uow:
            await uow.partners.add(partner)
            if claim is not None:  # the answer to replay is the partner's id, stored with the partner
                await uow.idempotency.complete_registration(claim.scope, claim.key, partner.partner_id)
    except BaseException:
        if claim is not None:
            await release_quietly(claim.scope, claim.key, deps)
        raise
    return partner, api_key


def _new_partner(cmd: NewPartner, deps: Deps) -> tuple[Partner, str]:
    key = issue_key()
    partner = Partner(
        uuid.uuid4(),
        cmd.name,
        cmd.contact_email,
        cmd.webhook_url,
        secrets.token_urlsafe(32),
        cmd.plan,
        key.key_id,
        key_digest(deps.pepper, key.plaintext),
        deps.clock(),
    )
    return partner, key.plaintext


async def get_partner(partner_id: uuid.UUID, deps: Deps) -> Partner:
    async with deps.uow(read_only=True) as uow:
        partner = await uow.partners.get(partner_id)
    if partner is None:
        raise NotFound(f"partner {partner_id} not found", reason="PARTNER_NOT_FOUND")
    return partner


async def rotate_key(caller: Caller, partner_id: uuid.UUID, deps: Deps) -> tuple[str, datetime]:
    if not caller.admin and caller.partner_id != partner_id:
        raise NotFound(f"partner {partner_id} not found", reason="PARTNER_NOT_FOUND")  # others' partners do not exist
    key, now = issue_key(), deps.clock()
    async with deps.uow() as uow:
        partner = await uow.partners.get(partner_id, for_update=True)
        if partner is None:
            raise NotFound(f"partner {partner_id} not found", reason="PARTNER_NOT_FOUND")
        rotated = partner.rotated(key, key_digest(deps.pepper, key.plaintext), now, deps.key_grace)
        await uow.partners.save_keys(rotated)
    return key.plaintext, rotated.previous_key_expires_at


async def create_booking(cmd: NewBooking, partner: Partner, deps: Deps) -> PartnerBooking:
    """The booking of this idempotency key: the one it stored, or made now by the saga if it is new.
    `partner`: as the caller's credentials were checked against it, a moment ago."""
    state = BookingSagaState.start(vars(cmd), partner, deps.clock())
    opening = (state.booking_id, deps.sagas.opening(SAGA, state))  # the saga's first write rides with the claim
    earlier = await claim_or_replay(Claim(partner.partner_id, cmd.idempotency_key, cmd.request_hash), deps, opening)
    if earlier is not None:
        return _answer(earlier.booking, cmd.idempotency_key)
    try:
        final = await deps.sagas.run(SAGA, state, saga_id=state.booking_id, opened=opening[1])
    except SagaFailed as failed:  # the saga settled the key (stored answer or released)
        raise failed.cause from None
    return final.booking()


def _answer(answer: T | None, key: str) -> T:
    if answer is None:  # a settled key holds its answer (or an error, which claim_or_replay raised)
        raise RuntimeError(f"idempotency key {key!r} settled without an answer")
    return answer


async def get_booking(partner_id: uuid.UUID | None, booking_id: uuid.UUID, deps: Deps) -> PartnerBooking:
    async with deps.uow(read_only=True) as uow:
        booking = await uow.bookings.get(partner_id, booking_id)
    if booking is None:
        raise NotFound(f"booking {booking_id} not found", reason="BOOKING_NOT_FOUND")
    return booking


async def list_bookings(partner_id: uuid.UUID, filters: dict, position, limit: int, deps: Deps):
    async with deps.uow(read_only=True) as uow:
        rows = await uow.bookings.page(partner_id, filters, position, limit)
    return page_of(rows, limit, lambda b: [b.created_at.isoformat(), str(b.booking_id)])


async def cancel_booking(
    partner_id: uuid.UUID | None, booking_id: uuid.UUID, reason: str, deps: Deps
) -> PartnerBooking:
    booking = await get_booking(partner_id, booking_id, deps)
    if booking.status is BookingStatus.CANCELLED:
        return booking
    # Both calls are idempotent and the local write is last: a failure leaves it retryable.
    await deps.reservations.cancel(booking.reservation_id, reason or "cancelled by partner")
    await deps.ledger.reverse(booking.commission_record_id, reason or "booking cancelled")
    async with deps.uow() as uow:
        current = await uow.bookings.get(partner_id, booking_id, for_update=True)
        if current.status is not BookingStatus.CANCELLED:
            await uow.bookings.cancel(current, deps.clock())
            await uow.volumes.give_back(booking_id)  # later bookings of its month no longer count it
    return await get_booking(partner_id, booking_id, deps)
