"""One listener's ASGI app: its annotated routes, /openapi.json, /docs, /healthz and /readyz."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from services.chassis import errors as domain
from services.chassis.context import REQUEST_ID_HEADER, request_id_var
from services.chassis.telemetry import SpanKind, context_from, inject, mark_error, tracer
from services.gateway import headers
from services.gateway.bindings import Binding
from services.gateway.client_surface import ClientSurface, apply_identity
from services.gateway.config import GatewaySettings
from services.gateway.errors import (
    ErrorReply,
    GatewayError,
    from_rpc_error,
    gateway_error,
    internal,
    method_not_allowed,
)
from services.gateway.openapi import docs_page, openapi_document
from services.gateway.ratelimit import RateLimiter, client_key
from services.gateway.routes import MethodNotAllowed, NoRoute, Router
from services.gateway.transcode import from_http, to_json
from services.gateway.upstreams import Upstreams

log = logging.getLogger("novatrek.gateway")
_TRACER = tracer("gateway")
TRACE_HEADERS = {"traceparent", "tracestate"}


@dataclass
class Surface:
    """What one listener exposes: its name ("public" / "internal"), services and routes."""

    name: str
    services: list[str]
    bindings: list[Binding]
    title: str


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` (header or stream)."""
    too_large = gateway_error(
        domain.InvalidArgument(
            f"request body exceeds {limit} bytes", reason="REQUEST_TOO_LARGE", metadata={"limit_bytes": str(limit)}
        ),
        http_status=413,
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request, limit: int) -> bytes:
    """The body of a route that takes one: a Content-Type that is not JSON is 415 before it is read;
    a body without any Content-Type is 415 too (strict, and what a client meant is unknown); no body and
    no Content-Type is an empty message (a bare `POST …:cancel`)."""
    content_type = request.headers.get("content-type")
    if content_type is not None and not headers.is_json(content_type):
        raise headers.unsupported_media_type(content_type)
    body = await read_body(request, limit)
    if content_type is None and body:
        raise headers.unsupported_media_type(None)
    return body


class Dispatcher:
    """An ASGI app (so Starlette passes every method through): HTTP request -> one unary RPC."""

    def __init__(
        self,
        surface: Surface,
        settings: GatewaySettings,
        upstreams: Upstreams,
        limiter: RateLimiter | None,
        client: ClientSurface,
    ) -> None:
        self.surface, self.settings, self.upstreams, self.limiter = surface, settings, upstreams, limiter
        self.client = client
        self.router = Router(surface.bindings)

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        rid = headers.request_id(request.headers)
        token = request_id_var.set(rid)
        started, client, route = time.perf_counter(), "", "-"
        try:
            client = client_key(request.headers.get("authorization"), request.client.host if request.client else None)
            binding, values = self._route(request, client)
            route = binding.template.source
            self.client.throttle(binding, request.client.host if request.client else None)
            response = await self._transcode(request, binding, values, rid)
        except GatewayError as exc:
            response = self._error(exc.reply)
        except Exception:
            log.exception("gateway failure", extra={"path": request.url.path})
            response = self._error(internal())
        response.headers[REQUEST_ID_HEADER] = rid
        if self.settings.access_log:
            log.info(
                "http",
                extra={
                    "surface": self.surface.name,
                    "method": request.method,
                    "route": route,
                    "client": client,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        request_id_var.reset(token)
        await response(scope, receive, send)

    def _route(self, request: Request, client: str) -> tuple[Binding, dict[str, str]]:
        if self.limiter is not None and (wait := self.limiter.take(client)):
            raise gateway_error(
                domain.ResourceExhausted("rate limit exceeded", reason="RATE_LIMITED", retry_after_s=wait)
            )
        raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
        try:
            return self.router.resolve(request.method, raw_path.decode("latin-1"))
        except NoRoute:
            raise gateway_error(domain.NotFound("no route for this path", reason="ROUTE_NOT_FOUND")) from None
        except MethodNotAllowed as exc:
            raise method_not_allowed(exc.allowed) from None

    async def _transcode(self, request: Request, binding: Binding, values: dict[str, str], rid: str) -> Response:
        s = self.settings
        forwarded = headers.outbound_metadata(request.headers, rid, s.forwarded_headers, binding.method.full_name)
        user_id = self.client.authenticate(binding, request.headers.get("authorization"))
        if not self.client.forwards_authorization(binding):
            forwarded = tuple((k, v) for k, v in forwarded if k != "authorization")
        deadline = time.monotonic() + headers.deadline_s(request.headers, s.default_timeout_s, s.max_timeout_s)
        body = await read_json_body(request, s.max_body_bytes) if binding.body else b""
        message = from_http(binding, values, request.query_params.multi_items(), body)
        apply_identity(message, user_id)
        if (timeout := deadline - time.monotonic()) <= 0:  # the caller's deadline counts from its request's arrival
            raise gateway_error(
                domain.DeadlineExceeded("the deadline passed before the call could be made", reason="DEADLINE_EXCEEDED")
            )
        with _TRACER.start_as_current_span(
            f"{binding.http_method} {binding.template.source}",
            context=context_from(request.headers.items()),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": binding.http_method, "rpc.method": binding.method.full_name},
        ) as span:
            # the caller's trace continues through our span: its traceparent is replaced by ours
            metadata = (*((k, v) for k, v in forwarded if k not in TRACE_HEADERS), *inject().items())
            try:
                answer = await self.upstreams.call(binding)(message, timeout=timeout, metadata=metadata)
            except grpc.aio.AioRpcError as err:
                mark_error(span, err.code().name)
                return self._error(from_rpc_error(err))
        return Response(to_json(binding, answer), media_type="application/json")

    @staticmethod
    def _error(reply: ErrorReply) -> Response:
        return Response(
            reply.body(), status_code=reply.http_status, media_type="application/json", headers=reply.headers
        )


def build_app(
    surface: Surface,
    settings: GatewaySettings,
    upstreams: Upstreams,
    limiter: RateLimiter | None,
    client: ClientSurface,
) -> Starlette:
    spec = openapi_document(surface.bindings, surface.title, bearer_auth=surface.name == "public", access=client.of)
    page = docs_page(spec)

    async def openapi(_: Request) -> Response:
        return JSONResponse(spec)

    async def docs(_: Request) -> Response:
        return HTMLResponse(page)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        states = await upstreams.health(surface.services, settings.readiness_timeout_s)
        ready = all(state == "SERVING" for state in states.values())
        return JSONResponse({"ready": ready, "upstreams": states}, status_code=200 if ready else 503)

    routes = [
        Route(path, handler, methods=["GET"])
        for path, handler in (("/openapi.json", openapi), ("/docs", docs), ("/healthz", healthz), ("/readyz", readyz))
    ]
    routes.append(Route("/{path:path}", Dispatcher(surface, settings, upstreams, limiter, client)))
    return Starlette(routes=routes)
