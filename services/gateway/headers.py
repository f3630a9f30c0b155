"""HTTP request headers -> gRPC metadata (checked against header_specs.py), request id, and the call's deadline."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from services.chassis import errors as domain
from services.chassis.context import new_request_id
from services.gateway.errors import GatewayError, gateway_error, invalid
from services.gateway.header_specs import (
    ALWAYS_FORWARDED,
    ENTRY_OVERHEAD,
    MAX_FORWARDED_BYTES,
    REQUEST_ID,
    HeaderSpec,
    spec_for,
)

_REQUEST_ID = re.compile(REQUEST_ID.pattern)
# RFC 6839 structured syntax suffix: application/problem+json, application/vnd.x+json, ...
_JSON_MEDIA_TYPE = re.compile(r"application/([a-z0-9!#$&^_.+-]+\+)?json")
ACCEPTED_MEDIA_TYPES = "application/json, application/*+json"
_GRPC_TIMEOUT = re.compile(r"^([0-9]{1,8})([HMSmun])$")
_GRPC_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


def request_id(headers: Mapping[str, str]) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new one."""
    given = headers.get(REQUEST_ID.key, "")
    return given if _REQUEST_ID.fullmatch(given) else new_request_id()


def _too_large(message: str, reason: str, **metadata: str) -> GatewayError:
    """431: the client's error, never 429 (a client retries 429 forever) nor gRPC's own text."""
    return gateway_error(domain.InvalidArgument(message, reason=reason, metadata=metadata), http_status=431)


def _check_sizes(given: list[tuple[HeaderSpec, str]], metadata: list[tuple[str, str]]) -> None:
    for spec, value in given:
        if len(value) > spec.max_length:
            limit = str(spec.max_length)
            raise _too_large(
                f"request header {spec.name} exceeds {limit} bytes",
                "HEADER_TOO_LARGE",
                header=spec.name,
                limit_bytes=limit,
            )
    if sum(len(k) + len(v) + ENTRY_OVERHEAD for k, v in metadata) > MAX_FORWARDED_BYTES:
        limit = str(MAX_FORWARDED_BYTES)
        raise _too_large(
            f"the forwarded request headers exceed {limit} bytes together", "HEADERS_TOO_LARGE", limit_bytes=limit
        )


def outbound_metadata(
    headers: Mapping[str, str], rid: str, allow_list: list[str], method: str
) -> tuple[tuple[str, str], ...]:
    """The metadata for a call of `method` (`pkg.Service.Method`), decided before any RPC: a header over
    its limit, or all over MAX_FORWARDED_BYTES, is 431; a value off its pattern or a required one missing, 400."""
    specs = [spec_for(key) for key in dict.fromkeys((*ALWAYS_FORWARDED, *allow_list))]
    given = [(spec, value.strip()) for spec in specs if (value := headers.get(spec.key)) is not None]
    metadata = [(REQUEST_ID.key, rid), *((spec.key, value) for spec, value in given)]
    _check_sizes(given, metadata)
    bad = [(spec.key, f"must be {spec.says}") for spec, value in given if not re.fullmatch(spec.pattern, value)]
    bad += [
        (spec.key, f"is required: the HTTP header {spec.name}, {spec.says}")
        for spec in specs
        if spec.required(method) and spec.key not in headers
    ]
    if bad:
        raise invalid(bad, message="invalid request headers")
    return tuple(metadata)


def is_json(content_type: str) -> bool:
    """application/json or application/*+json, any parameters; a charset, if named, must be UTF-8 (RFC 8259)."""
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    charsets = [p.partition("=")[2].strip().strip('"') for p in params if p.partition("=")[0].strip() == "charset"]
    return bool(_JSON_MEDIA_TYPE.fullmatch(media_type)) and all(c in ("utf-8", "utf8") for c in charsets)


def unsupported_media_type(content_type: str | None) -> GatewayError:
    error = domain.InvalidArgument(
        f"the request body must be JSON (Content-Type {ACCEPTED_MEDIA_TYPES})",
        reason="UNSUPPORTED_MEDIA_TYPE",
        metadata={"content_type": (content_type or "")[:200], "accepted": ACCEPTED_MEDIA_TYPES},
    )
    return gateway_error(error, http_status=415)


def _seconds(headers: Mapping[str, str]) -> float | None:
    if (raw := headers.get("grpc-timeout")) is not None:
        found = _GRPC_TIMEOUT.fullmatch(raw.strip())
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
