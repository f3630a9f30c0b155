"""Conversions between google.type / well-known protobuf types and Python values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Literal, overload

from google.protobuf import field_mask_pb2, timestamp_pb2
from google.protobuf.message import Message
from google.type import date_pb2, money_pb2

from services.chassis.errors import Violations
from services.chassis.money import CURRENCY_MINOR_UNITS

NANOS = Decimal(1_000_000_000)

# What a parser of a required field returns for a value it refused, with the violation recorded: the
# caller's `raise_if_any()` refuses the request before anything uses it. A check that compares the
# value with another asks `violations.refused(field)` first.
REFUSED_DATE = date.min
REFUSED_UUID = uuid.UUID(int=0)
REFUSED_TIME = datetime.min.replace(tzinfo=UTC)


def money_to_proto(amount: Decimal, currency: str) -> money_pb2.Money:
    units = int(amount)  # truncates toward zero, as Money wants units and nanos of the same sign
    nanos = int((amount - units) * NANOS)
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def decimal_of(money: money_pb2.Money) -> Decimal:
    """The exact value of a Money we trust (from our own services)."""
    return Decimal(money.units) + Decimal(money.nanos) / NANOS


def money_from_proto(money: money_pb2.Money, field: str, violations: Violations) -> tuple[Decimal, str] | None:
    ok = violations.check(
        money.currency_code in CURRENCY_MINOR_UNITS,
        f"{field}.currency_code",
        "unknown or unsupported ISO 4217 currency",
    )
    ok &= violations.check(abs(money.nanos) < 1_000_000_000, f"{field}.nanos", "must be within ±999,999,999")
    ok &= violations.check(money.units * money.nanos >= 0, f"{field}.nanos", "units and nanos must have the same sign")
    if not ok:
        return None
    return decimal_of(money), money.currency_code


def date_to_proto(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


@overload
def date_from_proto(
    value: date_pb2.Date, field: str, violations: Violations, required: Literal[True] = True
) -> date: ...
@overload
def date_from_proto(
    value: date_pb2.Date, field: str, violations: Violations, required: Literal[False]
) -> date | None: ...
def date_from_proto(value: date_pb2.Date, field: str, violations: Violations, required: bool = True) -> date | None:
    """The date; an optional field unset or refused is None, a required one refused REFUSED_DATE."""
    refused = REFUSED_DATE if required else None
    if value.year == value.month == value.day == 0:
        if required:
            violations.add(field, "is required")
        return refused
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        violations.add(field, "is not a valid calendar date")
        return refused


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """From an aware datetime (a naive one raises TypeError); arithmetic, not FromDatetime, which
    showed in the profile of every read."""
    since = value - _EPOCH
    return timestamp_pb2.Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


# google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)


@overload
def time_from_proto(
    message: Message, name: str, field: str, violations: Violations, required: Literal[True] = True
) -> datetime: ...
@overload
def time_from_proto(
    message: Message, name: str, field: str, violations: Violations, required: Literal[False]
) -> datetime | None: ...
def time_from_proto(
    message: Message, name: str, field: str, violations: Violations, required: bool = True
) -> datetime | None:
    """The instant in `message`'s Timestamp field `name` (UTC, microseconds: PostgreSQL's precision);
    an optional field unset or refused is None, a required one refused REFUSED_TIME."""
    refused = REFUSED_TIME if required else None
    if not message.HasField(name):
        if required:
            violations.add(field, "is required")
        return refused
    value: timestamp_pb2.Timestamp = getattr(message, name)
    low, high = _TIMESTAMP_SECONDS
    if not (low <= value.seconds <= high and 0 <= value.nanos < 1_000_000_000):
        violations.add(field, "is not a valid timestamp")
        return refused
    return _EPOCH + timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def parse_uuid(value: str, field: str, violations: Violations, required: Literal[True] = True) -> uuid.UUID: ...
@overload
def parse_uuid(value: str, field: str, violations: Violations, required: Literal[False]) -> uuid.UUID | None: ...
def parse_uuid(value: str, field: str, violations: Violations, required: bool = True) -> uuid.UUID | None:
    """The UUID; an optional field unset or refused is None, a required one refused REFUSED_UUID."""
    refused = REFUSED_UUID if required else None
    if not value:
        if required:
            violations.add(field, "is required")
        return refused
    try:
        return uuid.UUID(value)
    except ValueError:
        violations.add(field, "must be a UUID")
        return refused


def page_size(value: int, violations: Violations, default: int = 25, maximum: int = 100) -> int:
    violations.check(0 <= value <= maximum, "page_size", f"must be between 0 and {maximum}")
    return value or default


def mask_paths(mask: field_mask_pb2.FieldMask, allowed: set[str], violations: Violations) -> set[str]:
    """The paths of an update mask; unknown or immutable paths and an empty mask are violations."""
    paths = set(mask.paths)
    violations.check(bool(paths), "update_mask", "must name at least one field")
    for path in sorted(paths - allowed):
        violations.add("update_mask", f"unknown or immutable field {path!r}; updatable: {', '.join(sorted(allowed))}")
    return paths & allowed
