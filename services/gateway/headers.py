"""HTTP request headers -> gRPC metadata, request id, and the call's deadline."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from services.chassis.context import REQUEST_ID_HEADER, new_request_id
from services.gateway.errors import invalid

ALWAYS_FORWARDED = ("authorization", "idempotency-key")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
# gRPC allows printable ASCII in text metadata values.
_METADATA_VALUE = re.compile(r"^[\x20-\x7e]*$")
_GRPC_TIMEOUT = re.compile(r"^([0-9]{1,8})([HMSmun])$")
_GRPC_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def request_id(headers: Mapping[str, str]) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new one."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID.match(given) else new_request_id()


def outbound_metadata(headers: Mapping[str, str], rid: str, allow_list: list[str]) -> tuple[tuple[str, str], ...]:
    metadata = [(REQUEST_ID_HEADER, rid)]
    bad = []
    for name in (*ALWAYS_FORWARDED, *allow_list):
        value = headers.get(name)
        if value is None:
            continue
        if _METADATA_VALUE.match(value):
            metadata.append((name, value.strip()))
        else:
            bad.append((name, "must be printable ASCII"))
    if bad:
        raise invalid(bad, message="invalid request headers")
    return tuple(metadata)


def _seconds(headers: Mapping[str, str]) -> float | None:
    if (raw := headers.get("grpc-timeout")) is not None:
        found = _GRPC_TIMEOUT.match(raw.strip())
        if not found:
            raise invalid([("Grpc-Timeout", "must be 1-8 digits and a unit of H M S m u n, e.g. 5S")])
        return int(found[1]) * _GRPC_UNITS[found[2]]
    if (raw := headers.get("x-request-timeout")) is not None:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise invalid([("X-Request-Timeout", "must be a positive number of seconds")])
        return value
    return None


def deadline_s(headers: Mapping[str, str], default_s: float, max_s: float) -> float:
    """The upstream call's timeout: the caller's (Grpc-Timeout, else X-Request-Timeout), capped."""
    given = _seconds(headers)
    return min(max_s, default_s if given is None else given)
