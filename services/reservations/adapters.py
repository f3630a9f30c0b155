"""Ports implemented over the typed gRPC clients."""

from __future__ import annotations

import uuid
from datetime import date

from clients.catalog import CatalogClient
from clients.guests import GuestsClient
from services.chassis.errors import FailedPrecondition, NotFound
from services.chassis.protoconv import decimal_of
from services.reservations.ports import Hold


class GuestDirectoryOverGrpc:
    def __init__(self, client: GuestsClient) -> None:
        self.client = client

    async def ensure_eligible(self, guest_id: uuid.UUID) -> None:
        await self.client.ensure_eligible(str(guest_id))


class SeatInventoryOverGrpc:
    def __init__(self, client: CatalogClient) -> None:
        self.client = client

    async def hold(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID, seats: int) -> Hold:
        try:
            held = await self.client.hold_seats(str(trip_id), day, str(reservation_id), seats)
        except NotFound as exc:  # the trip or its departure on that day: a precondition of booking
            raise FailedPrecondition(exc.message, reason=exc.reason, metadata=exc.metadata) from exc
        return Hold(decimal_of(held.price_per_person), held.price_per_person.currency_code)

    async def release(self, trip_id: uuid.UUID, day: date, reservation_id: uuid.UUID) -> None:
        await self.client.release_seats(str(trip_id), day, str(reservation_id))
