"""Pipeline ports over the typed gRPC clients."""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal

from novatrek.payments.v1 import payments_pb2
from novatrek.reservations.v1 import reservations_pb2

from clients.payments import PaymentsClient
from clients.reservations import ReservationsClient
from services.chassis.errors import FailedPrecondition, NotFound
from services.chassis.protoconv import decimal_of
from services.partners.ports import PayoutInfo, ReservationInfo

ACTOR = "partner-integrations"


def _info(r: reservations_pb2.Reservation) -> ReservationInfo:
    status = reservations_pb2.ReservationStatus.Name(r.status).removeprefix("RESERVATION_STATUS_").lower()
    return ReservationInfo(
        uuid.UUID(r.reservation_id),
        r.confirmation_code,
        status,
        decimal_of(r.total_amount),
        r.total_amount.currency_code,
    )


class ReservationDeskOverGrpc:
    def __init__(self, client: ReservationsClient) -> None:
        self.client = client

    async def create(self, reservation_id, guest_id, trip_id, day, party_size) -> ReservationInfo:
        # The reservation id is ours (client-assigned), so the request id can be derived from it.
        r = await self.client.create(
            str(uuid.uuid5(reservation_id, "request")),
            str(guest_id),
            str(trip_id),
            day,
            party_size,
            ACTOR,
            reservation_id=str(reservation_id),
        )
        return _info(r)

    async def confirm(self, reservation_id: uuid.UUID) -> None:
        """One call: the transition's refusal says when a retried step finds it confirmed already."""
        try:
            await self.client.transition(
                str(reservation_id), reservations_pb2.RESERVATION_STATUS_CONFIRMED, ACTOR, "partner booking"
            )
        except FailedPrecondition as refused:
            if (refused.reason, refused.metadata.get("from")) != ("ILLEGAL_STATUS_TRANSITION", "confirmed"):
                raise

    async def cancel(self, reservation_id: uuid.UUID, reason: str) -> None:
        with contextlib.suppress(NotFound):  # never created: nothing to undo
            await self.client.cancel(str(reservation_id), ACTOR, reason)

    async def get(self, reservation_id: uuid.UUID) -> ReservationInfo | None:
        try:
            return _info(await self.client.get(str(reservation_id)))
        except NotFound:
            return None


class CommissionLedgerOverGrpc:
    def __init__(self, client: PaymentsClient) -> None:
        self.client = client

    async def process(self, record_id, partner_id, booking_id, reservation_id, amount: Decimal, currency: str) -> None:
        await self.client.process_commission(
            str(record_id), str(partner_id), str(booking_id), str(reservation_id), amount, currency
        )

    async def reverse(self, record_id: uuid.UUID, reason: str) -> None:
        await self.client.reverse_commission(str(record_id), reason)

    async def payouts(self, partner_id: uuid.UUID) -> list[PayoutInfo]:
        return [
            PayoutInfo(
                uuid.UUID(p.commission_record_id),
                decimal_of(p.amount),
                payments_pb2.PayoutStatus.Name(p.status).removeprefix("PAYOUT_STATUS_").lower(),
            )
            for p in await self.client.payouts(str(partner_id))
        ]
