"""Reservation use cases: (command, deps) -> result. Cross-service steps compensate on failure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.chassis.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.uow import UnitOfWorkFactory
from services.reservations import events
from services.reservations.commands import (
    AddParticipant,
    CreateReservation,
    SearchReservations,
    TransitionStatus,
    UpdateReservation,
)
from services.reservations.domain import (
    Participant,
    Reservation,
    Status,
    StatusChange,
    check_can_join,
    new_confirmation_code,
    price,
    reservation_id_for,
)
from services.reservations.ports import CodeCollision, DuplicateRequest, GuestDirectory, Hold, SeatHolds


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # ReservationUnitOfWork, or an in-memory fake in unit tests
    guests: GuestDirectory
    holds: SeatHolds
    clock: Callable[[], datetime] = field(default=utcnow)


def _not_found(reservation_id) -> NotFound:
    return NotFound(f"reservation {reservation_id} not found", reason="RESERVATION_NOT_FOUND")


async def create_reservation(cmd: CreateReservation, deps: Deps) -> Reservation:
    reservation_id = cmd.reservation_id or reservation_id_for(cmd.request_id)
    if (earlier := await _replay(reservation_id, cmd, deps)) is not None:
        return earlier
    await deps.guests.ensure_eligible(cmd.guest_id)
    async with deps.holds.taken(cmd.trip_id, cmd.trip_date, reservation_id, cmd.party_size) as hold:
        created = await _insert(reservation_id, cmd, hold, deps)
    return created or await _settle_twin(reservation_id, cmd, deps)


async def _replay(reservation_id: uuid.UUID, cmd: CreateReservation, deps: Deps) -> Reservation | None:
    async with deps.uow(read_only=True) as uow:
        fingerprint = await uow.reservations.fingerprint(reservation_id)
        earlier = await uow.reservations.get(reservation_id) if fingerprint else None
    if fingerprint and fingerprint != cmd.fingerprint():
        raise InvalidArgument(
            "request_id was already used for a different reservation", reason="IDEMPOTENCY_KEY_REUSED"
        )
    return earlier


async def _insert(reservation_id: uuid.UUID, cmd: CreateReservation, hold: Hold, deps: Deps) -> Reservation | None:
    """The reservation, written with the withdrawal of its announced release; None when a twin
    request (the same id) wrote it first."""
    now, total = deps.clock(), price(hold.unit_price, hold.currency, cmd.party_size, cmd.currency)
    for _ in range(5):  # a confirmation-code collision is astronomically rare; draw again
        r = Reservation(
            reservation_id,
            cmd.guest_id,
            cmd.trip_id,
            new_confirmation_code(),
            Status.PENDING,
            cmd.trip_date,
            cmd.party_size,
            total,
            hold.currency,
            1,
            now,
            now,
        )
        lead = Participant(uuid.uuid4(), r.reservation_id, r.guest_id, "lead", False, now)
        try:
            async with deps.uow(autocommit=True) as uow:
                await uow.reservations.create(
                    r,
                    cmd.fingerprint(),
                    lead,
                    StatusChange(r, None, cmd.requested_by, "created"),
                    uow.event_row(events.created(r), now),
                )
            return r
        except CodeCollision:
            continue
        except DuplicateRequest:
            return None
    raise RuntimeError("could not draw a free confirmation code")


async def _settle_twin(reservation_id: uuid.UUID, cmd: CreateReservation, deps: Deps) -> Reservation:
    """A concurrent request with the same id committed first. Its hold shares our id, so put it
    back to what the twin booked before answering."""
    twin = await get_reservation(reservation_id, "", deps)  # committed: it is there
    try:
        earlier = await _replay(reservation_id, cmd, deps)
    except InvalidArgument:
        same_day = (twin.trip_id, twin.trip_date) == (cmd.trip_id, cmd.trip_date)
        await deps.holds.restore(cmd.trip_id, cmd.trip_date, reservation_id, twin.party_size if same_day else 0)
        raise
    return earlier or twin


async def get_reservation(reservation_id: uuid.UUID | None, code: str, deps: Deps) -> Reservation:
    async with deps.uow(read_only=True) as uow:
        found = await (uow.reservations.get(reservation_id) if reservation_id else uow.reservations.by_code(code))
    if found is None:
        raise _not_found(reservation_id or code)
    return found


async def search_reservations(q: SearchReservations, deps: Deps) -> tuple[list[Reservation], list | None]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.reservations.search(q.filters, q.position, q.limit)
    return page_of(rows, q.limit, lambda r: [r.created_at.isoformat(), str(r.reservation_id)])


async def update_reservation(cmd: UpdateReservation, deps: Deps) -> Reservation:
    current = await get_reservation(cmd.reservation_id, "", deps)
    current.check_revision(cmd.expected_revision)
    current.require_open()
    day, size = cmd.trip_date or current.trip_date, cmd.party_size or current.party_size
    if (day, size) == (current.trip_date, current.party_size):
        return current
    rid, moving = current.reservation_id, day != current.trip_date
    holding = (
        deps.holds.taken(current.trip_id, day, rid, size)
        if moving
        else deps.holds.resized(current.trip_id, day, rid, size, was=current.party_size)
    )
    async with holding as hold:
        updated = await _rebook(current, day, size, hold, deps)
    if moving:  # the old day's release was queued with the write
        await deps.holds.release_queued(rid)
    return updated


async def _rebook(current: Reservation, day: date, size: int, hold: Hold, deps: Deps) -> Reservation:
    async with deps.uow() as uow:
        rid = current.reservation_id
        locked = await uow.reservations.get(rid, for_update=True)
        locked.check_revision(current.rev)  # changed since we read it: the caller re-reads
        if size < len(await uow.reservations.participants(rid)):
            raise FailedPrecondition(f"{size} is fewer than the participants already added", reason="PARTY_TOO_SMALL")
        updated = locked.rebooked(day, size, hold.unit_price, deps.clock())
        if day == current.trip_date:
            await uow.reservations.save(updated)
        else:
            await uow.reservations.move(updated, moved_from=current.trip_date)
    return updated


async def transition_status(cmd: TransitionStatus, deps: Deps) -> Reservation:
    """Read, decide, then one conditional write: no row lock is held across round trips. A change
    made in between makes the write miss; it is decided again on a fresh read."""
    for _ in range(_TRANSITION_ATTEMPTS):
        async with deps.uow(read_only=True) as uow:
            current = await uow.reservations.get(cmd.reservation_id)
        if (change := _decide(current, cmd, deps.clock())) is None:
            return current
        async with deps.uow(autocommit=True) as uow:
            if await _write(uow, change):
                break
    else:
        raise Aborted(f"reservation {cmd.reservation_id} keeps changing; re-read and retry", reason="CONCURRENT_CHANGE")
    if cmd.to is Status.CANCELLED:  # the release was queued with the status change
        await deps.holds.release_queued(cmd.reservation_id)
    return change.reservation


async def transition_in(uow, cmd: TransitionStatus, now: datetime) -> Reservation:
    """The status change inside the caller's transaction (an event consumer's), under a row lock."""
    current = await uow.reservations.get(cmd.reservation_id, for_update=True)
    if (change := _decide(current, cmd, now)) is None:
        return current
    await _write(uow, change)  # the row is locked: the write cannot miss
    return change.reservation


_TRANSITION_ATTEMPTS = 3


def _decide(current: Reservation | None, cmd: TransitionStatus, now: datetime) -> StatusChange | None:
    """The change `cmd` makes to `current`; None when an idempotent command finds it done."""
    if current is None:
        raise _not_found(cmd.reservation_id)
    if cmd.idempotent and current.status is cmd.to:
        return None
    current.check_revision(cmd.expected_revision)
    return StatusChange(current.transition(cmd.to, now), current.status, cmd.changed_by, cmd.reason)


async def _write(uow, change: StatusChange) -> bool:
    """The change with its history, its event and, for a cancel, the release of its seats."""
    r = change.reservation
    release_day = r.trip_date if r.status is Status.CANCELLED else None
    return await uow.reservations.apply(change, uow.event_row(events.status_changed(change), r.updated_at), release_day)


async def add_participant(cmd: AddParticipant, deps: Deps) -> Participant:
    await deps.guests.ensure_eligible(cmd.guest_id)
    async with deps.uow() as uow:
        reservation = await uow.reservations.get(cmd.reservation_id, for_update=True)
        if reservation is None:
            raise _not_found(cmd.reservation_id)
        check_can_join(reservation, await uow.reservations.participants(cmd.reservation_id), cmd.guest_id)
        now = deps.clock()
        participant = Participant(uuid.uuid4(), cmd.reservation_id, cmd.guest_id, cmd.role, cmd.waiver_signed, now)
        await uow.reservations.add_participant(participant)
        await uow.reservations.save(reservation.touched(now))
    return participant


async def list_participants(reservation_id: uuid.UUID, deps: Deps) -> list[Participant]:
    async with deps.uow(read_only=True) as uow:
        if await uow.reservations.get(reservation_id) is None:
            raise _not_found(reservation_id)
        return await uow.reservations.participants(reservation_id)
