"""Outbox payloads trip-catalog publishes."""

from __future__ import annotations

from datetime import datetime

from novatrek.catalog.v1 import events_pb2

from services.catalog.domain import Session
from services.chassis.protoconv import timestamp


def session_finished(s: Session, occurred: datetime) -> events_pb2.SessionFinished:
    return events_pb2.SessionFinished(
        session_id=str(s.session_id),
        company_id=str(s.company_id),
        activity_id=str(s.activity_id),
        end_time=timestamp(s.end_time),
        occur_time=timestamp(occurred),
    )
