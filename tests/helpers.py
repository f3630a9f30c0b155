"""Assertions on gRPC errors and their google.rpc details; waiting for a condition; a clock tests move."""

from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

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
    """Polls a predicate (sync, or async) until it returns something truthy, and returns that. It is
    asked once more at the deadline, so a slow last poll does not fail a condition that holds."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(interval_s)


def eventually_blocking(predicate, timeout_s: float = 20.0, interval_s: float = 0.5):
    """`eventually` for synchronous tests (a subprocess driven from plain code)."""
    deadline = time.monotonic() + timeout_s
    while not (result := predicate()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(interval_s)
    return result


class FakeClock:
    """A UTC clock the test moves on (`advance`), for the services' and handlers' `clock` seams;
    `monotonic` reads it in seconds, for the seams that count seconds (rate limits)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = self.start = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - self.start).total_seconds()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
