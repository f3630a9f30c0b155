"""Reservation domain objects <-> protobuf messages (used by the servicer and the events)."""

from __future__ import annotations

from novatrek.reservations.v1 import reservations_pb2 as pb

from services.chassis.protoconv import date_to_proto, money_to_proto, timestamp
from services.reservations.domain import Participant, Reservation, Status

STATUS_TO_PB = {s: pb.ReservationStatus.Value(f"RESERVATION_STATUS_{s.name}") for s in Status}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}


def reservation_to_pb(r: Reservation) -> pb.Reservation:
    return pb.Reservation(
        reservation_id=str(r.reservation_id),
        guest_id=str(r.guest_id),
        trip_id=str(r.trip_id),
        confirmation_code=r.confirmation_code,
        status=STATUS_TO_PB[r.status],
        trip_date=date_to_proto(r.trip_date),
        party_size=r.party_size,
        total_amount=money_to_proto(r.total_amount, r.currency),
        revision=r.rev,
        create_time=timestamp(r.created_at),
        update_time=timestamp(r.updated_at),
    )


def participant_to_pb(p: Participant) -> pb.Participant:
    return pb.Participant(
        participant_id=str(p.participant_id),
        reservation_id=str(p.reservation_id),
        guest_id=str(p.guest_id),
        role=p.role,
        waiver_signed=p.waiver_signed,
        create_time=timestamp(p.created_at),
    )
