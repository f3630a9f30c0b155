"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.partners.v1 import events_pb2

from services.chassis.protoconv import timestamp
from services.partners.domain import PartnerBooking
from services.partners.protomap import booking_to_pb


def confirmed(b: PartnerBooking) -> events_pb2.PartnerBookingConfirmed:
    return events_pb2.PartnerBookingConfirmed(booking=booking_to_pb(b), occur_time=timestamp(b.created_at))
