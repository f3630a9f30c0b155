"""Assertions on gRPC errors and their google.rpc details."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2, status_pb2


@dataclass
class RpcFailure:
    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict = field(default_factory=dict)
    violations: dict[str, str] = field(default_factory=dict)
    retry_delay_s: float | None = None


def parse_failure(err: grpc.aio.AioRpcError) -> RpcFailure:
    failure = RpcFailure(err.code(), err.details() or "")
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                assert info.domain == "novatrek.io"
                failure.reason, failure.metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                failure.violations = {v.field: v.description for v in bad.field_violations}
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                failure.retry_delay_s = retry.retry_delay.ToTimedelta().total_seconds()
    return failure


async def fails(call) -> RpcFailure:
    """Awaits a call that must fail; returns its parsed status."""
    try:
        response = await call
    except grpc.aio.AioRpcError as err:
        return parse_failure(err)
    raise AssertionError(f"expected an RPC error, got {response!r}")


async def eventually(predicate, timeout_s: float = 20.0, interval_s: float = 0.2):
    """Polls an async predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := await predicate():
            return result
        await asyncio.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s}s")
