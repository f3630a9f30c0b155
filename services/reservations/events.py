"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.reservations.v1 import events_pb2

from services.chassis.protoconv import money_to_proto, timestamp
from services.reservations.domain import Reservation, StatusChange
from services.reservations.protomap import STATUS_TO_PB, reservation_to_pb


def created(r: Reservation) -> events_pb2.ReservationCreated:
    return events_pb2.ReservationCreated(reservation=reservation_to_pb(r), occur_time=timestamp(r.created_at))


def status_changed(change: StatusChange) -> events_pb2.ReservationStatusChanged:
    r = change.reservation
    if change.old_status is None:  # a creation is announced by `created`
        raise ValueError("a status change needs the status it left")
    return events_pb2.ReservationStatusChanged(
        reservation_id=str(r.reservation_id),
        confirmation_code=r.confirmation_code,
        guest_id=str(r.guest_id),
        trip_id=str(r.trip_id),
        old_status=STATUS_TO_PB[change.old_status],
        new_status=STATUS_TO_PB[r.status],
        changed_by=change.changed_by,
        reason=change.reason,
        revision=r.rev,
        occur_time=timestamp(r.updated_at),
        total_amount=money_to_proto(r.total_amount, r.currency),
    )
