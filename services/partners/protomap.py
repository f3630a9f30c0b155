"""Partner domain objects <-> protobuf."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from novatrek.partners.v1 import partners_pb2 as pb

from services.chassis.protoconv import date_to_proto, decimal_of, money_to_proto, timestamp
from services.partners.domain import Basis, BookingStatus, CommissionPlan, Partner, PartnerBooking

BASIS_FROM_PB = {pb.TIER_BASIS_BOOKING_COUNT: Basis.BOOKING_COUNT, pb.TIER_BASIS_GROSS_VALUE: Basis.GROSS_VALUE}
BASIS_TO_PB = {v: k for k, v in BASIS_FROM_PB.items()}
STATUS_TO_PB = {
    BookingStatus.CONFIRMED: pb.PARTNER_BOOKING_STATUS_CONFIRMED,
    BookingStatus.CANCELLED: pb.PARTNER_BOOKING_STATUS_CANCELLED,
}
STATUS_FROM_PB = {v: k for k, v in STATUS_TO_PB.items()}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rate_text(rate: Decimal) -> str:
    """One spelling per rate, at least two decimals: the pipeline has the plan's "0.10", a stored booking
    NUMERIC(6, 5)'s 0.10000, and the same booking must not read differently after its creation."""
    rate = rate.normalize()
    exponent = rate.as_tuple().exponent  # an int: a rate is a finite number
    return format(rate if isinstance(exponent, int) and exponent <= -2 else rate.quantize(Decimal("0.01")), "f")


def plan_to_pb(plan: CommissionPlan) -> pb.CommissionPlan:
    return pb.CommissionPlan(
        basis=BASIS_TO_PB[plan.basis], tiers=[pb.CommissionTier(threshold=str(t), rate=str(r)) for t, r in plan.tiers]
    )


def partner_to_pb(p: Partner) -> pb.Partner:
    return pb.Partner(
        partner_id=str(p.partner_id),
        name=p.name,
        contact_email=p.contact_email,
        webhook_url=p.webhook_url,
        commission_plan=plan_to_pb(p.plan),
        api_key_prefix=f"ntk_{p.api_key_id}",
        create_time=timestamp(p.created_at),
    )


def booking_to_pb(b: PartnerBooking) -> pb.PartnerBooking:
    message = pb.PartnerBooking(
        booking_id=str(b.booking_id),
        partner_id=str(b.partner_id),
        reservation_id=str(b.reservation_id),
        confirmation_code=b.confirmation_code,
        partner_reference=b.partner_reference,
        guest_id=str(b.guest_id),
        trip_id=str(b.trip_id),
        trip_date=date_to_proto(b.trip_date),
        party_size=b.party_size,
        status=STATUS_TO_PB[b.status],
        gross_amount=money_to_proto(b.gross_amount, b.currency),
        commission=money_to_proto(b.commission_amount, b.currency),
        commission_rate=rate_text(b.commission_rate),
        create_time=timestamp(b.created_at),
    )
    if b.cancelled_at:
        message.cancel_time.CopyFrom(timestamp(b.cancelled_at))
    return message


def booking_from_pb(m: pb.PartnerBooking) -> PartnerBooking:
    """The inverse of booking_to_pb, for answers the previous release stored as proto bytes: rendered
    again, the booking gives the same bytes."""
    return PartnerBooking(
        booking_id=uuid.UUID(m.booking_id),
        partner_id=uuid.UUID(m.partner_id),
        reservation_id=uuid.UUID(m.reservation_id),
        confirmation_code=m.confirmation_code,
        partner_reference=m.partner_reference,
        guest_id=uuid.UUID(m.guest_id),
        trip_id=uuid.UUID(m.trip_id),
        trip_date=date(m.trip_date.year, m.trip_date.month, m.trip_date.day),
        party_size=m.party_size,
        status=STATUS_FROM_PB[m.status],
        gross_amount=decimal_of(m.gross_amount),
        commission_amount=decimal_of(m.commission),
        commission_rate=Decimal(m.commission_rate),
        currency=m.gross_amount.currency_code,
        created_at=_datetime_of(m.create_time),
        cancelled_at=_datetime_of(m.cancel_time) if m.HasField("cancel_time") else None,
    )


def _datetime_of(t) -> datetime:
    return _EPOCH + timedelta(seconds=t.seconds, microseconds=t.nanos // 1000)
