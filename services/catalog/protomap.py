"""Catalog domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2 as pb

from services.catalog.domain import Departure, Trip
from services.chassis.protoconv import date_to_proto, money_to_proto, timestamp


def trip_to_pb(t: Trip) -> pb.Trip:
    return pb.Trip(
        trip_id=str(t.trip_id),
        name=t.name,
        description=t.description,
        price_per_person=money_to_proto(t.price_per_person, t.currency),
        active=t.active,
        create_time=timestamp(t.created_at),
    )


def departure_to_pb(d: Departure) -> pb.Departure:
    return pb.Departure(
        departure_id=str(d.departure_id),
        trip_id=str(d.trip_id),
        departure_date=date_to_proto(d.departure_date),
        capacity=d.capacity,
        seats_held=d.seats_held,
        seats_available=d.seats_available,
    )
