"""gRPC status -> HTTP status and google.rpc.Status JSON; request headers -> metadata and deadline."""

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from services.chassis import errors
from services.chassis.status import to_status
from services.gateway import headers
from services.gateway.errors import HTTP_STATUS, GatewayError, from_rpc_error, reply_for, status_json

GRPC_GATEWAY_TABLE = {
    "OK": 200,
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "DATA_LOSS": 500,
}


def rpc_error(code: grpc.StatusCode, message: str, status: status_pb2.Status | None = None) -> grpc.aio.AioRpcError:
    trailing = (
        grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString())) if status else grpc.aio.Metadata()
    )
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=message)


def test_every_code_maps_as_grpc_gateway_does():
    assert {code.name: http for code, http in HTTP_STATUS.items()} == GRPC_GATEWAY_TABLE


@pytest.mark.parametrize(
    ("error", "http"),
    [
        (errors.InvalidArgument("reused", reason="IDEMPOTENCY_KEY_REUSED"), 422),
        (errors.Aborted("in flight", reason="IDEMPOTENCY_KEY_IN_USE"), 409),
        (errors.FailedPrecondition("sold out", reason="SOLD_OUT"), 400),
        (errors.Aborted("stale", reason="REVISION_MISMATCH"), 409),
    ],
)
def test_idempotency_reasons_override_the_code(error, http):
    code, status = to_status(error)
    assert from_rpc_error(rpc_error(code, status.message, status)).http_status == http


def test_details_travel_into_the_json_body_and_retry_info_becomes_retry_after():
    error = errors.InvalidArgument("bad", violations=[errors.FieldViolation("party_size", "must be between 1 and 20")])
    code, status = to_status(error)
    reply = from_rpc_error(rpc_error(code, "bad", status))
    body = status_json(reply.status)
    assert body["code"] == 3 and body["message"] == "bad"
    assert body["details"][1] == {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "party_size", "description": "must be between 1 and 20"}],
    }
    code, status = to_status(errors.Unavailable("down", retry_after_s=2.5))
    reply = from_rpc_error(rpc_error(code, "down", status))
    assert (reply.http_status, reply.headers) == (503, {"retry-after": "3"})


def test_channel_failures_do_not_leak_upstream_addresses():
    reply = from_rpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to 10.1.2.3:50056"))
    assert (reply.http_status, reply.status.message, reply.headers) == (
        503,
        "upstream unavailable",
        {"retry-after": "1"},
    )
    assert from_rpc_error(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")).http_status == 504


def test_unknown_detail_types_are_dropped_not_fatal():
    status = status_pb2.Status(code=5, message="gone")
    status.details.add(type_url="type.googleapis.com/acme.Unknown", value=b"\x08\x01")
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1)))
    assert status_json(status) == {
        "code": 5,
        "message": "gone",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}],
    }
    assert reply_for(status).http_status == 404


def test_metadata_forwards_the_credentials_and_the_allow_list_only():
    sent = {
        "authorization": "Bearer k",
        "idempotency-key": "i-1",
        "traceparent": "00-ab-cd-01",
        "cookie": "s=1",
        "x-debug": "1",
    }
    assert headers.outbound_metadata(sent, "rid", ["traceparent"], "pkg.Service.Method") == (
        ("x-request-id", "rid"),
        ("authorization", "Bearer k"),
        ("idempotency-key", "i-1"),
        ("traceparent", "00-ab-cd-01"),
    )
    with pytest.raises(GatewayError):
        headers.outbound_metadata({"idempotency-key": "caf\u00e9"}, "rid", [], "pkg.Service.Method")


def test_request_id_is_kept_when_sane():
    assert headers.request_id({"x-request-id": "abc-123"}) == "abc-123"
    assert headers.request_id({"x-request-id": "x" * 200}) != "x" * 200
    assert len(headers.request_id({})) == 32


@pytest.mark.parametrize(
    ("sent", "seconds"),
    [
        ({}, 10.0),
        ({"grpc-timeout": "500m"}, 0.5),
        ({"grpc-timeout": "2S"}, 2.0),
        ({"grpc-timeout": "1H"}, 60.0),
        ({"x-request-timeout": "2.5"}, 2.5),
        ({"x-request-timeout": "600"}, 60.0),
        ({"grpc-timeout": "3S", "x-request-timeout": "9"}, 3.0),
    ],
)
def test_deadline_honours_the_caller_and_is_capped(sent, seconds):
    assert headers.deadline_s(sent, 10.0, 60.0) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "sent",
    [
        {"grpc-timeout": "5"},
        {"grpc-timeout": "123456789S"},
        {"x-request-timeout": "0"},
        {"x-request-timeout": "nan"},
        {"x-request-timeout": "soon"},
    ],
)
def test_bad_timeouts_are_400(sent):
    with pytest.raises(GatewayError) as caught:
        headers.deadline_s(sent, 10.0, 60.0)
    assert caught.value.reply.http_status == 400
