"""One server interceptor: request id + deadline context, access log, domain-error mapping."""

from __future__ import annotations

import logging
import time

import grpc

from services.chassis import errors
from services.chassis.context import REQUEST_ID_HEADER, deadline_var, new_request_id, request_id_var
from services.chassis.status import STATUS_DETAILS_KEY, to_status

log = logging.getLogger("novatrek.rpc")


def _request_id(details: grpc.HandlerCallDetails) -> str:
    for key, value in details.invocation_metadata or ():
        if key == REQUEST_ID_HEADER and value:
            return str(value)[:128]
    return new_request_id()


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, access_log: bool = False) -> None:
        self.access_log = access_log

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        rid = _request_id(handler_call_details)
        behaviour = handler.unary_unary

        async def wrapped(request, context: grpc.aio.ServicerContext):
            request_id_var.set(rid)
            left = context.time_remaining()
            deadline_var.set(None if left is None else time.monotonic() + left)
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                return await behaviour(request, context)
            except errors.DomainError as exc:
                code, status = to_status(exc)
                await context.abort(code, status.message, trailing_metadata=((STATUS_DETAILS_KEY, status.SerializeToString()),))
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except Exception:
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error", extra={"method": method})
                # Never leak a stack trace or internal message to the caller.
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                if self.access_log or code not in (grpc.StatusCode.OK,):
                    log.info("rpc", extra={"method": method, "code": code.name, "duration_ms": elapsed_ms})

        return grpc.unary_unary_rpc_method_handler(
            wrapped, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )
