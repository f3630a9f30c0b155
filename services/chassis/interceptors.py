"""One server interceptor: request id + deadline context, admission control, trace span, metrics,
access log, and the mapping of domain errors (and of requests that do not parse) to gRPC status
with google.rpc details."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc

from services.chassis import errors
from services.chassis.context import MESH_CALL_HEADER, REQUEST_ID_HEADER, deadline_var, new_request_id, request_id_var
from services.chassis.db import database_unavailable
from services.chassis.metrics import RPC_REQUESTS, RPC_SECONDS
from services.chassis.status import STATUS_DETAILS_KEY, to_status
from services.chassis.telemetry import SpanKind, context_from, mark_error, tracer

log = logging.getLogger("novatrek.rpc")
# Health checks answer at once, even behind a queue of calls: a probe must not time out under load.
_UNLIMITED = "/grpc."


class _Undecodable:
    """Stands for request bytes that do not parse as the method's message."""


UNDECODABLE = _Undecodable()


def _tolerant(deserializer):
    """grpc answers a request that fails to parse with UNKNOWN and the parser's exception text; ours
    is parsed here instead, and refused as the caller's error in `wrapped`."""
    if deserializer is None:
        return None

    def parse(raw: bytes):
        try:
            return deserializer(raw)
        except Exception:  # DecodeError, or whatever else a parser makes of hostile bytes
            return UNDECODABLE
    return parse


def _request_id(metadata) -> str:
    for key, value in metadata:
        if key == REQUEST_ID_HEADER and value:
            return str(value)[:128]
    return new_request_id()


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, service: str, access_log: bool = False, max_active: int = 0) -> None:
        self.service, self.access_log, self.tracer = service, access_log, tracer(service)
        # Admission control: beyond `max_active` running calls, new ones wait their turn (FIFO, within
        # their deadline) instead of all sharing the CPU at once. Without it a burst slows every call
        # down together until every downstream deadline fires and nothing completes (storm, issue 8).
        self.slots = asyncio.Semaphore(max_active) if max_active > 0 else None

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method, metadata = handler_call_details.method, tuple(handler_call_details.invocation_metadata or ())
        behaviour = handler.unary_unary
        # Only calls entering the mesh queue: a call from another service is part of work admitted
        # upstream, and waiting here again would count against that caller's short per-hop deadline.
        unqueued = method.startswith(_UNLIMITED) or any(key == MESH_CALL_HEADER for key, _ in metadata)

        async def wrapped(request, context: grpc.aio.ServicerContext):
            request_id_var.set(_request_id(metadata))
            left = context.time_remaining()
            deadline_var.set(None if left is None else time.monotonic() + left)
            started, code = time.perf_counter(), grpc.StatusCode.OK
            with self.tracer.start_as_current_span(method.lstrip("/"), context=context_from(metadata), kind=SpanKind.SERVER,
                                                   attributes={"rpc.system": "grpc", "rpc.method": method}) as span:
                try:
                    if request is UNDECODABLE:
                        raise errors.InvalidArgument("the request is not a valid message of this method's type", reason="MALFORMED_REQUEST")
                    if left is not None and left <= 0:  # nobody waits for the answer: do no work for it
                        raise errors.DeadlineExceeded("the call's deadline passed before it started", reason="DEADLINE_EXCEEDED")
                    if self.slots is None or unqueued:
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
                    code, status = to_status(error)
                    await context.abort(code, status.message, trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),))
                finally:
                    self._record(span, method, code, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            wrapped, request_deserializer=_tolerant(handler.request_deserializer), response_serializer=handler.response_serializer
        )

    def _record(self, span, method: str, code: grpc.StatusCode, seconds: float) -> None:
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code is not grpc.StatusCode.OK:
            mark_error(span, code.name)
        RPC_REQUESTS.labels(self.service, method, code.name).inc()
        RPC_SECONDS.labels(self.service, method).observe(seconds)
        if self.access_log or code is not grpc.StatusCode.OK:
            log.info("rpc", extra={"method": method, "code": code.name, "duration_ms": round(seconds * 1000, 2)})
