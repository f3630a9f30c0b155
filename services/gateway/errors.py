"""gRPC status -> HTTP status and a google.rpc.Status JSON body, as grpc-gateway answers."""

from __future__ import annotations

import contextlib
import json
import logging
import math
from dataclasses import dataclass, field

import grpc
from google.protobuf import duration_pb2, json_format
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2  # error_details: lets json_format render the details

from services.chassis import errors
from services.chassis.status import ERROR_DOMAIN, STATUS_DETAILS_KEY, to_status

HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
_BY_NUMBER = {code.value[0]: status for code, status in HTTP_STATUS.items()}
# The IETF Idempotency-Key draft: a key reused with another payload is 422, one still in flight 409.
REASON_STATUS = {"IDEMPOTENCY_KEY_REUSED": 422, "IDEMPOTENCY_KEY_IN_USE": 409}
log = logging.getLogger("novatrek.gateway")


@dataclass
class ErrorReply:
    http_status: int
    status: status_pb2.Status
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return json.dumps(status_json(self.status), ensure_ascii=False, separators=(",", ":")).encode()


class GatewayError(Exception):
    """Raised by the gateway's own checks (before any RPC): carries the reply to send."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.status.message)
        self.reply = reply


def status_json(status: status_pb2.Status) -> dict:
    try:
        return json_format.MessageToDict(status)
    except (TypeError, KeyError):  # a detail type we do not know: keep the ones we can render
        known = status_pb2.Status(code=status.code, message=status.message)
        for detail in status.details:
            try:
                json_format.MessageToDict(detail)
                known.details.append(detail)
            except (TypeError, KeyError):
                continue
        return json_format.MessageToDict(known)


def _detail(status: status_pb2.Status, cls):
    for detail in status.details:
        item = cls()
        if detail.Unpack(item):
            return item
    return None


def reply_for(status: status_pb2.Status, http_status: int | None = None) -> ErrorReply:
    info = _detail(status, error_details_pb2.ErrorInfo)
    http = http_status or REASON_STATUS.get(info.reason if info else "", _BY_NUMBER.get(status.code, 500))
    headers = {}
    retry = _detail(status, error_details_pb2.RetryInfo)
    if retry is not None and http in (429, 503):
        headers["retry-after"] = str(max(1, math.ceil(retry.retry_delay.ToTimedelta().total_seconds())))
    return ErrorReply(http, status, headers)


# Failures the client channel reports itself (no status details from a server): their messages name
# upstream addresses, so partners get a fixed text and operators the original in the log.
_LOCAL_FAILURES = {
    grpc.StatusCode.UNAVAILABLE: ("upstream unavailable", "UPSTREAM_UNAVAILABLE"),
    grpc.StatusCode.DEADLINE_EXCEEDED: ("deadline exceeded", "DEADLINE_EXCEEDED"),
    grpc.StatusCode.CANCELLED: ("request cancelled", "CANCELLED"),
    grpc.StatusCode.UNKNOWN: ("internal error", "INTERNAL"),
    grpc.StatusCode.INTERNAL: ("internal error", "INTERNAL"),
}


def from_rpc_error(err: grpc.aio.AioRpcError) -> ErrorReply:
    """The upstream's status with the details it sent in `grpc-status-details-bin`."""
    status = status_pb2.Status(code=err.code().value[0], message=err.details() or "")
    for key, value in err.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY:
            with contextlib.suppress(DecodeError):
                status.details.extend(status_pb2.Status.FromString(value).details)
    if not status.details and err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return _size_refused(err)
    if not status.details and err.code() in _LOCAL_FAILURES:
        log.warning("upstream call failed", extra={"code": err.code().name, "error": err.details()})
        status.message, reason = _LOCAL_FAILURES[err.code()]
        status.details.add().Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
        if err.code() == grpc.StatusCode.UNAVAILABLE:
            status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1)))
    return reply_for(status)


def _size_refused(err: grpc.aio.AioRpcError) -> ErrorReply:
    """RESOURCE_EXHAUSTED without details is a gRPC transport refusing a size (metadata, message), not a
    service's quota: 429 would make clients retry forever, and its text lists internal metadata."""
    log.warning("upstream refused a size", extra={"error": err.details()})
    if "metadata" in (err.details() or ""):
        error = errors.InvalidArgument("request headers too large", reason="HEADERS_TOO_LARGE")
        return reply_for(to_status(error)[1], http_status=431)
    status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=ERROR_DOMAIN))
    return reply_for(status)


def gateway_error(error: errors.DomainError, http_status: int | None = None) -> GatewayError:
    """An error the gateway answers itself, shaped exactly like the services' errors."""
    _, status = to_status(error)
    return GatewayError(reply_for(status, http_status))


def invalid(violations: list[tuple[str, str]], reason: str = "INVALID_ARGUMENT", message: str = "") -> GatewayError:
    found = [errors.FieldViolation(f, d) for f, d in violations]
    message = message or "invalid request: " + ", ".join(sorted({v.field or "body" for v in found}))
    return gateway_error(errors.InvalidArgument(message, reason=reason, violations=found))


def method_not_allowed(allowed: set[str]) -> GatewayError:
    info = error_details_pb2.ErrorInfo(
        reason="METHOD_NOT_ALLOWED", domain=ERROR_DOMAIN, metadata={"allow": ", ".join(sorted(allowed))}
    )
    status = status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="method not allowed")
    status.details.add().Pack(info)
    return GatewayError(ErrorReply(405, status, {"allow": ", ".join(sorted(allowed))}))


def internal() -> ErrorReply:
    return ErrorReply(500, status_pb2.Status(code=code_pb2.INTERNAL, message="internal error"))
