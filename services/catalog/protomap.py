"""Catalog domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2 as pb

from services.catalog.domain import Activity, Departure, Extra, Session, SessionStatus, Trip
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


SESSION_STATUS_TO_PB = {
    SessionStatus.SCHEDULED: pb.SESSION_STATUS_SCHEDULED,
    SessionStatus.FINISHED: pb.SESSION_STATUS_FINISHED,
    SessionStatus.CANCELLED: pb.SESSION_STATUS_CANCELLED,
}


def activity_to_pb(a: Activity) -> pb.Activity:
    return pb.Activity(
        activity_id=str(a.activity_id),
        company_id=str(a.company_id),
        name=a.name,
        category=a.category,
        create_time=timestamp(a.created_at),
    )


def session_to_pb(s: Session) -> pb.Session:
    return pb.Session(
        session_id=str(s.session_id),
        activity_id=str(s.activity_id),
        company_id=str(s.company_id),
        start_time=timestamp(s.start_time),
        end_time=timestamp(s.end_time),
        capacity=s.capacity,
        booked=s.booked,
        available=s.seats_available,
        price=money_to_proto(s.price, s.currency),
        status=SESSION_STATUS_TO_PB[s.status],
        create_time=timestamp(s.created_at),
    )


def extra_to_pb(e: Extra) -> pb.Extra:
    return pb.Extra(
        extra_id=str(e.extra_id),
        activity_id=str(e.activity_id),
        name=e.name,
        unit_price=money_to_proto(e.unit_price, e.currency),
        create_time=timestamp(e.created_at),
    )
