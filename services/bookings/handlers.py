"""Bookings use cases: create (the read phase, the claim, the saga; twins wait for the first), reads."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.bookings.booking_saga import saga_name
from services.bookings.commands import CreateBooking, ListBookings
from services.bookings.domain import Booking, BookingStatus, failure_reason_of
from services.bookings.ports import Cards, Catalog, Customer, Customers, Passes, SessionInfo, Wallet
from services.bookings.saga_state import BookingSagaState
from services.bookings.snapshot import snapshot
from services.chassis.errors import NotFound, key_reused
from services.chassis.outcomes import Outcomes, until_ended
from services.chassis.pagination import page_of
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaFailed
from services.chassis.uow import UnitOfWorkFactory

log = logging.getLogger("novatrek.bookings")


class Sagas(Protocol):
    def opening(self, saga_type: str, state: Any) -> dict[str, Any]: ...

    async def run(self, saga_type: str, state: Any, saga_id: uuid.UUID | None = None, opened: Any = None) -> Any: ...


@dataclass
class Deps:
    uow: UnitOfWorkFactory[Any]  # BookingUnitOfWork, or an in-memory fake in unit tests
    sagas: Sagas
    customers: Customers
    catalog: Catalog
    passes: Passes
    wallet: Wallet
    cards: Cards
    outcomes: Outcomes[Booking] = field(default_factory=lambda: Outcomes(lambda b: b.booking_id))
    clock: Callable[[], datetime] = utcnow
    wait_s: float = 20.0  # how long a twin without deadline waits for the first one's end
    cancellation_cutoff_s: int = 7200  # the cancellation policy (docs/bookings.md)
    claim_s: float = 30.0  # how long a biller or refunder owns a booking before another may take it over


async def create_booking(cmd: CreateBooking, deps: Deps) -> Booking:
    """Reads (customer, session, extras: no saga write), claims the booking id with the saga's opening
    (one transaction), runs the saga; a second request under the id answers the first."""
    customer = await _customer(cmd, deps)
    session = await deps.catalog.session(cmd.session_id)
    extras = await deps.catalog.extras(session.activity_id) if cmd.extras else []
    fresh = snapshot(cmd, customer, session, extras, deps.clock())
    state = BookingSagaState(fresh, cmd.method_reference)
    name, saga_id = saga_name(fresh), uuid.uuid4()
    opened = deps.sagas.opening(name, state)
    with deps.outcomes.watching(fresh.booking_id) as ended:
        async with deps.uow() as uow:
            claimed = await uow.bookings.claim(fresh)
            if claimed:
                await uow.sagas.open(saga_id, opened)
        if not claimed:
            return await _twin(fresh, ended, deps)
        try:
            await deps.sagas.run(name, state, saga_id, opened)
        except SagaFailed as failed:  # compensated (the failed booking is the answer), or left to recovery
            if not ended.done():  # a compensation waits for a peer: the pending booking says why
                await _note_failure(fresh.booking_id, failure_reason_of(failed.cause), deps)
        except Exception as exc:  # past the pivot (recovery finishes it) or taken over
            log.warning("booking left for recovery", extra={"booking_id": str(fresh.booking_id), "error": repr(exc)})
        return ended.result() if ended.done() else await get_booking(fresh.booking_id, "", deps)


async def _note_failure(booking_id: uuid.UUID, reason: str, deps: Deps) -> None:
    try:
        async with deps.uow(autocommit=True) as uow:
            await uow.bookings.note_failure(booking_id, reason, deps.clock())
    except Exception as exc:  # the database too: recovery still fails the booking (BOOKING_INTERRUPTED)
        log.warning("failure reason not noted", extra={"booking_id": str(booking_id), "error": repr(exc)})


async def _customer(cmd: CreateBooking, deps: Deps) -> Customer:
    who = cmd.who
    if who.email:
        return await deps.customers.register(cmd.company_id, who.email, who.full_name)
    if who.user_id:
        return await deps.customers.resolve(cmd.company_id, who.user_id)
    assert who.customer_id is not None  # the servicer requires one of the three
    found = await deps.customers.get(who.customer_id)
    if found.company_id != cmd.company_id:
        raise NotFound(f"customer {who.customer_id} not found", reason="CUSTOMER_NOT_FOUND")
    return found


async def _twin(fresh: Booking, ended: Any, deps: Deps) -> Booking:
    async def read() -> Booking:
        found = await get_booking(fresh.booking_id, "", deps)
        if found.fingerprint != fresh.fingerprint:
            raise key_reused("booking_id", fresh.booking_id)
        return found

    return await until_ended(read, lambda b: b.status is BookingStatus.PENDING, ended, deps.wait_s)


async def get_booking(booking_id: uuid.UUID, user_id: str, deps: Deps) -> Booking:
    """`user_id` set (the client surface): only that user's booking is found."""
    async with deps.uow(read_only=True) as uow:
        found = await uow.bookings.get(booking_id)
    if found is None or (user_id and found.user_id != user_id):
        raise NotFound(f"booking {booking_id} not found", reason="BOOKING_NOT_FOUND")
    return found


ACTIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT)


async def session_view(
    session_id: uuid.UUID, company_id: uuid.UUID | None, deps: Deps
) -> tuple[SessionInfo, list[Booking], int]:
    """The session (catalog's), its bookings that held a seat, and the active ones' count; another
    company's session is NOT_FOUND to a business that names itself."""
    session = await deps.catalog.session(session_id)
    if company_id is not None and session.company_id != company_id:
        raise NotFound(f"session {session_id} not found", reason="SESSION_NOT_FOUND")
    async with deps.uow(read_only=True) as uow:
        held = await uow.bookings.of_session(session_id)
    return session, held, sum(b.status in ACTIVE for b in held)


async def list_bookings(query: ListBookings, position: Any, deps: Deps) -> tuple[list[Booking], Any]:
    async with deps.uow(read_only=True) as uow:
        rows = await uow.bookings.list_mine(
            query.user_id, query.session_id, query.company_id, position, query.page_size
        )
    return page_of(rows, query.page_size, lambda b: [b.session_start.isoformat(), str(b.booking_id)])
