"""Hostile requests for any RPC, from its descriptor: a hypothesis strategy over the input message's
fields (hostile and random text, extreme integers, unknown enum numbers, nested and repeated
fields), values that exist (so that examples reach the code behind "not found"), and what an answer
must never be."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import status_pb2
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.gateway.fields import is_map, is_repeated

EXAMPLES_PER_METHOD = 30
RANDOM_BYTES_PER_METHOD = 10
MAX_DEPTH = 3
# Text that has broken services elsewhere: SQL, NUL and other controls, emoji and other 4-byte UTF-8,
# right-to-left and combining marks, format strings, and sizes at and far beyond every column.
HOSTILE_TEXT = [
    "Robert'); DROP TABLE guests;--",
    "' OR '1'='1' --",
    "%",
    "_%\\",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\r\n",
    "😀" * 100,
    "שלום עולם \u202e",
    "e\u0301\u0302\u0303" * 30,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\U0010ffff\ufeff\u200b",
    "%s%n{0}${jndi:x}",
    "../../etc/passwd",
    "NaN",
    "-Infinity",
    "1e309",
    "9" * 40,
    " ",
    "x" * 255,
    "x" * 2001,
    "x" * 100_000,
]
# Internal details an answer must never carry.
LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg")
FORBIDDEN_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}

_T = FieldDescriptor
_INT_RANGES = {
    **dict.fromkeys((_T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_SFIXED32), (-(2**31), 2**31 - 1)),
    **dict.fromkeys((_T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_SFIXED64), (-(2**63), 2**63 - 1)),
    **dict.fromkeys((_T.TYPE_UINT32, _T.TYPE_FIXED32), (0, 2**32 - 1)),
    **dict.fromkeys((_T.TYPE_UINT64, _T.TYPE_FIXED64), (0, 2**64 - 1)),
}


@pytest.fixture(scope="module")
async def running(
    guests_service,
    catalog_service,
    reservations_service,
    payments_service,
    partners_service,
    notifications_service,
    orders_service,
    inventory_service,
    wallet_service,
    businesses_service,
    passes_service,
    loyalty_service,
    network_service,
    bookings_service,
):
    """Every service under test, by short name; import it into a test module to use it."""
    return {
        "guests": guests_service,
        "catalog": catalog_service,
        "reservations": reservations_service,
        "payments": payments_service,
        "notifications": notifications_service,
        "partners": partners_service,
        "orders": orders_service,
        "inventory": inventory_service,
        "wallet": wallet_service,
        "businesses": businesses_service,
        "passes": passes_service,
        "loyalty": loyalty_service,
        "network": network_service,
        "bookings": bookings_service,
    }


def methods_of(module) -> list:
    """Every RPC of every service a proto module declares (bookings: BookingService and SessionViewService)."""
    return [m for service in module.DESCRIPTOR.services_by_name.values() for m in service.methods]


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (low, high, -1, 0, 1, 2**31 - 1, 2**31, -(2**31) - 1) if low <= v <= high]
    return st.one_of(
        st.sampled_from(edges), st.integers(-1000, 1000).filter(lambda v: low <= v <= high), st.integers(low, high)
    )


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type == _T.TYPE_STRING:
        return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
    if field.type == _T.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type == _T.TYPE_BOOL:
        return st.booleans()
    if field.type in (_T.TYPE_DOUBLE, _T.TYPE_FLOAT):
        return st.floats(width=32 if field.type == _T.TYPE_FLOAT else 64)
    if field.type == _T.TYPE_ENUM:  # proto3 enums are open: any int32 arrives, known or not
        return st.one_of(st.sampled_from([v.number for v in field.enum_type.values]), _integers(-(2**31), 2**31 - 1))
    return _integers(*_INT_RANGES[field.type])


def _value(field: FieldDescriptor, known: dict, depth: int, friendly: bool) -> st.SearchStrategy:
    generated = (
        messages(field.message_type, known, depth + 1, friendly) if field.message_type is not None else _scalar(field)
    )
    if not known.get(field.name):
        return generated
    good = st.sampled_from(known[field.name])
    # A friendly example keeps a known value 4 times in 5; the others half the time.
    return st.integers(0, 4 if friendly else 1).flatmap(lambda n: good if n else generated)


@st.composite
def messages(draw, descriptor: Descriptor, known: dict, depth: int = 0, friendly: bool | None = None):
    """A message of `descriptor` with any subset of its fields set (nested ones to MAX_DEPTH). A
    `friendly` one (half of them) sets every field it knows a value for, mostly to that value: then
    one or two hostile fields are what the service meets, past the checks of the others."""
    friendly = draw(st.booleans()) if friendly is None else friendly
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        wanted = friendly and field.name in known
        if (field.message_type is not None and depth >= MAX_DEPTH) or not (wanted or draw(st.booleans())):
            continue
        if is_map(field):
            key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
            entries = draw(st.dictionaries(_scalar(key), _value(value, known, depth, friendly), max_size=3))
            for k, v in entries.items():
                _set(getattr(message, field.name), k, v)
        elif is_repeated(field):
            items = draw(st.lists(_value(field, known, depth, friendly), max_size=3))
            target = getattr(message, field.name)
            for item in items:
                target.add().CopyFrom(item) if field.message_type is not None else target.append(item)
        elif field.message_type is not None:
            getattr(message, field.name).CopyFrom(draw(_value(field, known, depth, friendly)))
        else:
            setattr(message, field.name, draw(_value(field, known, depth, friendly)))
    return message


def _set(mapping, key, value) -> None:
    if hasattr(value, "DESCRIPTOR"):
        mapping[key].CopyFrom(value)
    else:
        mapping[key] = value


def examples(strategy: st.SearchStrategy, count: int) -> list:
    """`count` derandomized draws (the same every run). The servers share this test's event loop, so
    the examples are drawn first and sent from the loop, rather than sent from inside @given."""
    found: list = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value) -> None:
        found.append(value)

    collect()
    return found


def problem(err: grpc.aio.AioRpcError) -> str | None:
    """Why this error is not an acceptable answer to a hostile request, or None."""
    text = err.details() or ""
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            text += str(status_pb2.Status.FromString(value))
    if err.code() in FORBIDDEN_CODES:
        return f"{err.code().name}: {text[:300]}"
    leaked = [word for word in LEAKS if word.lower() in text.lower()]
    return f"{err.code().name} leaks {leaked}: {text[:300]}" if leaked else None
