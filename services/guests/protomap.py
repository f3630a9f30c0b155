"""Guest domain objects <-> protobuf messages."""

from __future__ import annotations

from novatrek.guests.v1 import guests_pb2 as pb

from services.chassis.protoconv import date_to_proto, timestamp
from services.guests.domain import Guest, GuestStatus, Ineligibility

STATUS_TO_PB = {
    GuestStatus.ACTIVE: pb.GUEST_STATUS_ACTIVE,
    GuestStatus.INACTIVE: pb.GUEST_STATUS_INACTIVE,
    GuestStatus.SUSPENDED: pb.GUEST_STATUS_SUSPENDED,
}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}
INELIGIBILITY_TO_PB = {r: pb.IneligibilityReason.Value(f"INELIGIBILITY_REASON_{r.name}") for r in Ineligibility}


def guest_to_pb(g: Guest) -> pb.Guest:
    return pb.Guest(
        guest_id=str(g.guest_id),
        first_name=g.first_name,
        last_name=g.last_name,
        email=g.email,
        phone=g.phone,
        date_of_birth=date_to_proto(g.date_of_birth) if g.date_of_birth else None,
        status=STATUS_TO_PB[g.status],
        create_time=timestamp(g.created_at),
        update_time=timestamp(g.updated_at),
    )
