"""Channels and calls shared by every typed client: deadlines, retries, request-id propagation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from services.chassis import errors
from services.chassis.context import outbound_metadata, outbound_timeout
from services.chassis.metrics import origin_metadata
from services.chassis.telemetry import SpanKind, in_trace, inject, mark_error, tracer, tracing_enabled

_TRACER = tracer("clients")
Response = TypeVar("Response")
Metadata = tuple[tuple[str, str | bytes], ...]
# Retried by the channel only for methods that are idempotent (reads, and writes keyed by an id).
RETRY_POLICY = {
    "maxAttempts": 3,
    "initialBackoff": "0.05s",
    "maxBackoff": "0.5s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


# Channels each typed client opens to its peer (Wiring sets it from `outbound_connections`).
_connections = {"per_peer": 1}


def configure_connections(per_peer: int) -> None:
    _connections["per_peer"] = max(1, per_peer)


def open_channel(target: str, idempotent: dict[str, list[str]], own_connection: bool = False) -> grpc.aio.Channel:
    """`idempotent`: full service name -> method names the channel may retry on UNAVAILABLE.
    `own_connection`: not shared with other channels to the same peer (gRPC shares a connection
    between channels of equal arguments): how several channels make several connections."""
    names = [{"service": service, "method": m} for service, methods in idempotent.items() for m in methods]
    config = {"methodConfig": [{"name": names, "retryPolicy": RETRY_POLICY}]} if names else {}
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.enable_retries", 1),
            ("grpc.service_config", json.dumps(config)),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.lb_policy_name", "round_robin"),
            # Reconnect to a peer that was down within a second or two of its return: gRPC's default
            # backoff grows to 120 s, which kept callers failing long after a short outage (issue 8).
            ("grpc.initial_reconnect_backoff_ms", 250),
            ("grpc.max_reconnect_backoff_ms", 2_000),
            *([("grpc.use_local_subchannel_pool", 1)] if own_connection else []),
        ],
    )


_PASSED_THROUGH: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.ABORTED: errors.Aborted,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
}


def _error_info(err: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    from google.rpc import error_details_pb2, status_pb2

    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info.reason, dict(info.metadata)
    return err.code().name, {}


def remote_error(err: grpc.aio.AioRpcError, dependency: str) -> errors.DomainError:
    """A downstream failure as our own domain error: business outcomes keep their code and reason;
    anything else (down, slow, broken) means the dependency is unavailable to us."""
    reason, metadata = _error_info(err)
    cls = _PASSED_THROUGH.get(err.code())
    if cls is not None:
        return cls(err.details() or reason, reason=reason, metadata=metadata)
    return errors.Unavailable(f"{dependency} is unavailable ({err.code().name})", metadata={"dependency": dependency})


async def call(
    method: Callable[..., Awaitable[Response]],
    request: Message,
    dependency: str,
    timeout_s: float,
    metadata: Metadata = (),
) -> Response:
    """One outbound unary call: deadline = min(our default, what our caller has left); request id,
    trace context and `metadata` (e.g. credentials) travel with it."""
    timeout = outbound_timeout(timeout_s)
    if timeout <= 0:
        raise errors.DeadlineExceeded(f"no time left to call {dependency}", reason="DEADLINE_EXHAUSTED")
    sent = (*outbound_metadata(), *origin_metadata(), *metadata)
    if not tracing_enabled() and not in_trace():  # no span to record or continue: skip the tracing API
        try:
            return await method(request, timeout=timeout, metadata=sent)
        except grpc.aio.AioRpcError as err:
            raise remote_error(err, dependency) from err
    name = getattr(method, "_method", b"").decode().lstrip("/") or dependency
    with _TRACER.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes={"rpc.system": "grpc", "peer.service": dependency}
    ) as span:
        try:
            return await method(request, timeout=timeout, metadata=(*sent, *inject().items()))
        except grpc.aio.AioRpcError as err:
            mark_error(span, err.code().name)
            raise remote_error(err, dependency) from err


class TypedClient:
    """What every typed client shares: channels with their retry policy, the generated stub, and
    calls with deadlines. Subclasses name the dependency, the stub and the idempotent methods.

    A channel keeps one HTTP/2 connection per peer address; with `connections` > 1 (default: the
    process's `outbound_connections`) the client opens that many, each call on the next (`stub`),
    so a peer's worker processes sharing one port (SO_REUSEPORT) all get calls."""

    dependency: str  # how errors and spans name it
    service: str  # the full proto service name
    stub_class: type
    idempotent: tuple[str, ...] = ()  # methods the channel may retry on UNAVAILABLE

    def __init__(
        self, target: str, timeout_s: float = 3.0, credentials: Metadata = (), connections: int | None = None
    ) -> None:
        count = connections or _connections["per_peer"]
        idempotent = {self.service: list(self.idempotent)}
        self.channels = [open_channel(target, idempotent, own_connection=count > 1) for _ in range(count)]
        self.channel = self.channels[0]  # the only one by default
        self._stubs = [self.stub_class(channel) for channel in self.channels]
        self._turn = 0
        self.timeout_s, self.credentials = timeout_s, credentials

    @property
    def stub(self) -> Any:
        """The next connection's stub (round robin)."""
        self._turn = (self._turn + 1) % len(self._stubs)
        return self._stubs[self._turn]

    async def _call(self, method: Callable[..., Awaitable[Response]], request: Message) -> Response:
        return await call(method, request, self.dependency, self.timeout_s, self.credentials)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
