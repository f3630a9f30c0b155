"""What every call goes through: request id + deadline context, admission control, trace span,
metrics, access log, and the mapping of domain errors (and of requests that do not parse) to gRPC
status with google.rpc details.

Each unary method handler is wrapped once, when it is registered (`ServerCalls.registrar`), not per
call by a grpc interceptor: on a trivial echo the interceptor machinery plus grpc's own
`maximum_concurrent_rpcs` limiter cost 40 % of the throughput (bench/RESULTS.md, issue 7)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from opentelemetry.trace import Span

from services.chassis import errors
from services.chassis.context import MESH_CALL_HEADER, REQUEST_ID_HEADER, deadline_var, new_request_id, request_id_var
from services.chassis.db import database_unavailable
from services.chassis.metrics import BACKGROUND, CALL, ORIGIN_HEADER, RPC_REQUESTS, RPC_SECONDS, WORK, work_var
from services.chassis.status import STATUS_DETAILS_KEY, to_status
from services.chassis.telemetry import TRACE_HEADER, SpanKind, context_from, mark_error, tracer, tracing_enabled

log = logging.getLogger("novatrek.rpc")
# Health checks answer at once, even behind a queue of calls: a probe must not time out under load.
_UNLIMITED = "/grpc."
_NO_SPAN = contextlib.nullcontext()


class _Undecodable:
    """Stands for request bytes that do not parse as the method's message."""


UNDECODABLE = _Undecodable()


def _tolerant(deserializer: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
    """grpc answers a request that fails to parse with UNKNOWN and the parser's exception text; ours
    is parsed here instead, and refused as the caller's error in `wrapped`."""
    if deserializer is None:
        return None

    def parse(raw: bytes) -> object:
        try:
            return deserializer(raw)
        except Exception:  # DecodeError, or whatever else a parser makes of hostile bytes
            return UNDECODABLE

    return parse


class ServerCalls:
    """`max_active`: admission control. Beyond that many running calls entering the mesh, new ones
    wait their turn (FIFO, within their deadline) instead of all sharing the CPU at once: without it
    a burst slows every call down together until every downstream deadline fires and nothing
    completes (storm, issue 8). `max_calls`: beyond that many calls in progress (running or
    waiting), new ones are refused as RESOURCE_EXHAUSTED."""

    def __init__(self, service: str, access_log: bool = False, max_active: int = 0, max_calls: int = 0) -> None:
        self.service, self.access_log, self.tracer = service, access_log, tracer(service)
        self.slots = asyncio.Semaphore(max_active) if max_active > 0 else None
        self.max_calls, self.in_progress = max_calls, 0

    def registrar(self, server: grpc.aio.Server) -> _Registrar:
        """Stands for `server` when services, health and reflection register their handlers."""
        return _Registrar(server, self)

    def wrap(self, method: str, handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler | None:
        if handler is None or handler.unary_unary is None:
            return handler
        behaviour, unlimited = handler.unary_unary, method.startswith(_UNLIMITED)
        counted = not unlimited  # probes neither count against max_calls nor are refused by it
        succeeded, seconds = RPC_REQUESTS.labels(self.service, method, "OK"), RPC_SECONDS.labels(self.service, method)
        served = {origin: WORK.labels(self.service, origin, "rpc") for origin in (CALL, BACKGROUND)}

        async def wrapped(request: object, context: grpc.aio.ServicerContext) -> Any:  # a response, or abort raised
            request_id, from_mesh, traced, origin = "", False, tracing_enabled(), CALL
            metadata = context.invocation_metadata() or ()
            for key, value in metadata:
                if key == REQUEST_ID_HEADER:
                    request_id = str(value)[:128]
                elif key == MESH_CALL_HEADER:
                    from_mesh = (
                        True  # part of work admitted upstream: waiting again would eat its short per-hop deadline
                    )
                elif key == TRACE_HEADER:
                    traced = True  # even when we export nothing, the caller's trace goes on through us
                elif key == ORIGIN_HEADER:
                    origin = BACKGROUND  # made by a loop or a consumer, not to answer a call
            request_id_var.set(request_id or new_request_id())
            work_var.set((self.service, origin))
            if counted:
                served[origin].inc()
            left = context.time_remaining()
            deadline_var.set(None if left is None else time.monotonic() + left)
            started, code = time.perf_counter(), grpc.StatusCode.OK
            span_scope = (
                self.tracer.start_as_current_span(
                    method.lstrip("/"),
                    context=context_from(metadata),
                    kind=SpanKind.SERVER,
                    attributes={"rpc.system": "grpc", "rpc.method": method},
                )
                if traced
                else _NO_SPAN
            )
            self.in_progress += counted
            with span_scope as span:
                try:
                    if request is UNDECODABLE:
                        raise errors.InvalidArgument(
                            "the request is not a valid message of this method's type", reason="MALFORMED_REQUEST"
                        )
                    if left is not None and left <= 0:  # nobody waits for the answer: do no work for it
                        raise errors.DeadlineExceeded(
                            "the call's deadline passed before it started", reason="DEADLINE_EXCEEDED"
                        )
                    if counted and self.max_calls and self.in_progress > self.max_calls:
                        raise errors.ResourceExhausted("too many calls in progress; retry later", reason="OVERLOADED")
                    if self.slots is None or unlimited or from_mesh:
                        return await behaviour(request, context)
                    async with self.slots:
                        return await behaviour(request, context)
                except grpc.aio.AbortError:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                except Exception as exc:
                    # A lost database connection is an outage (UNAVAILABLE, retry later), not a bug.
                    error = exc if isinstance(exc, errors.DomainError) else database_unavailable(exc)
                    if error is None:
                        code = grpc.StatusCode.INTERNAL
                        log.exception("unhandled error", extra={"method": method})
                        # Never leak a stack trace or internal message to the caller.
                        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
                    else:
                        code, status = to_status(error)
                        await context.abort(
                            code, status.message, trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),)
                        )
                finally:
                    self.in_progress -= counted
                    elapsed = time.perf_counter() - started
                    seconds.observe(elapsed)
                    if code is grpc.StatusCode.OK:
                        succeeded.inc()
                    else:
                        RPC_REQUESTS.labels(self.service, method, code.name).inc()
                    self._record(span, method, code, elapsed)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )

    def _record(self, span: Span | None, method: str, code: grpc.StatusCode, seconds: float) -> None:
        if span is not None:
            span.set_attribute("rpc.grpc.status_code", code.value[0])
            if code is not grpc.StatusCode.OK:
                mark_error(span, code.name)
        if self.access_log or code is not grpc.StatusCode.OK:
            log.info("rpc", extra={"method": method, "code": code.name, "duration_ms": round(seconds * 1000, 2)})


class _Registrar:
    """The server as `add_*_to_server` sees it: handlers are wrapped on their way in."""

    def __init__(self, server: grpc.aio.Server, calls: ServerCalls) -> None:
        self.server, self.calls = server, calls

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.server.add_registered_method_handlers(
            service, {name: self.calls.wrap(f"/{service}/{name}", h) for name, h in handlers.items()}
        )

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self.server.add_generic_rpc_handlers(tuple(_WrappedGeneric(h, self.calls) for h in handlers))


class _WrappedGeneric(grpc.GenericRpcHandler):  # type: ignore[misc]  # grpc is untyped here (no types-grpcio)
    """A generic handler whose answers are wrapped, each method once."""

    def __init__(self, inner: grpc.GenericRpcHandler, calls: ServerCalls) -> None:
        self.inner, self.calls = inner, calls
        self.wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler | None]] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self.inner.service(handler_call_details)
        if handler is None:  # not ours (and never cached: callers choose method names)
            return None
        method = handler_call_details.method
        known = self.wrapped.get(method)
        if known is None or known[0] is not handler:
            known = self.wrapped[method] = (handler, self.calls.wrap(method, handler))
        return known[1]
