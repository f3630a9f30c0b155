"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.loyalty.v1 import events_pb2

from services.chassis.protoconv import timestamp
from services.loyalty.domain import Transaction
from services.loyalty.protomap import transaction_to_pb


def earned(t: Transaction) -> events_pb2.PointsEarned:
    return events_pb2.PointsEarned(transaction=transaction_to_pb(t), occur_time=timestamp(t.created_at))


def redeemed(t: Transaction) -> events_pb2.PointsRedeemed:
    return events_pb2.PointsRedeemed(transaction=transaction_to_pb(t), occur_time=timestamp(t.created_at))


def reversed_(t: Transaction) -> events_pb2.PointsReversed:
    return events_pb2.PointsReversed(transaction=transaction_to_pb(t), occur_time=timestamp(t.created_at))
