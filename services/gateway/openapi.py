"""The OpenAPI 3 document of a listener, generated from the same bindings that route its requests."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor
from google.rpc import status_pb2

from services.gateway.bindings import Binding
from services.gateway.client_surface import CUSTOMER_ID, USER_ID, Access
from services.gateway.fields import is_plain_message, is_query_leaf, is_repeated, resolve_field_path
from services.gateway.header_specs import SPECS, openapi_parameter
from services.gateway.headers import ACCEPTED_MEDIA_TYPES
from services.gateway.schemas import Schemas

_MAX_QUERY_DEPTH = 3
CUSTOMER_TOKEN = "customerToken"
_SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "Partner API key"},
    CUSTOMER_TOKEN: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A customer's token: a signed JWT whose sub is the platform user id (docs/gateway.md)",
    },
}


def path_parameter_names(b: Binding) -> dict[str, str]:
    """Field path -> OpenAPI parameter name: the leaf's JSON name (`reservation.reservation_id` ->
    `reservationId`, so PATCH shares GET's path), the whole path camel-joined if two leaves clash.
    Dots are avoided: tools read `{a.b}` as attribute access."""
    leaves = {v.field_path: resolve_field_path(b.method.input_type, v.field_path) for v in b.template.variables}
    names = {path: fields[-1].json_name for path, fields in leaves.items()}
    if len(set(names.values())) < len(names):
        names = {
            path: fields[0].json_name + "".join(f.json_name[:1].upper() + f.json_name[1:] for f in fields[1:])
            for path, fields in leaves.items()
        }
    return names


def _query_parameters(
    schemas: Schemas, message: Descriptor, skip: set[str], prefix: str = "", json_prefix: str = "", depth: int = 0
) -> list[dict]:
    params = []
    for field in message.fields:
        path, name = prefix + field.name, json_prefix + field.json_name
        if path in skip:
            continue
        if is_plain_message(field):
            if depth < _MAX_QUERY_DEPTH:
                assert field.message_type is not None  # a plain message field has its type
                params += _query_parameters(schemas, field.message_type, skip, path + ".", name + ".", depth + 1)
        elif is_query_leaf(field):
            param = {"name": name, "in": "query", "required": False, "schema": schemas.field(field)}
            if is_repeated(field):
                param.update(style="form", explode=True)
            params.append(param)
    return params


def _field_schema(schemas: Schemas, message: Descriptor, path: str) -> dict:
    return schemas.field(resolve_field_path(message, path)[-1])


def _operation(schemas: Schemas, b: Binding, access: Access) -> dict:
    request, names = b.method.input_type, path_parameter_names(b)
    hidden = {USER_ID, CUSTOMER_ID} if access is Access.CUSTOMER else set()  # the customer is the token's
    params = [
        {
            "name": names[v.field_path],
            "in": "path",
            "required": True,
            "schema": _field_schema(schemas, request, v.field_path),
        }
        for v in b.template.variables
    ]
    if b.body != "*":
        params += _query_parameters(schemas, request, {*b.template_fields, b.body, *hidden})
    headers = [openapi_parameter(spec, b.method.full_name) for spec in SPECS if spec.listed_on(b.method.full_name)]
    status = {"content": {"application/json": {"schema": schemas.message(status_pb2.Status.DESCRIPTOR)}}}
    op: dict[str, Any] = {
        "operationId": b.operation_id,
        "summary": b.method.name,
        "tags": [b.method.containing_service.name],
        "parameters": [*params, *headers],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _response_schema(schemas, b)}}},
            "default": {"description": "Error: a google.rpc.Status with its details", **status},
        },
    }
    if b.body:
        top = {f.split(".")[0] for f in b.template_fields}
        schema = (
            schemas.object(request, frozenset(top | hidden))
            if b.body == "*"
            else schemas.field(request.fields_by_name[b.body])
        )
        op["requestBody"] = {
            "required": True,
            "description": f"JSON: Content-Type {ACCEPTED_MEDIA_TYPES} (UTF-8); any other, or none with a body, is 415",
            "content": {"application/json": {"schema": schema}},
        }
        op["responses"]["415"] = {"description": "Unsupported Media Type: the body is not JSON", **status}
    if access is Access.CUSTOMER:
        op["security"] = [{CUSTOMER_TOKEN: []}]
        op["responses"]["401"] = {"description": "No valid customer token (WWW-Authenticate says why)", **status}
    elif access is Access.GUEST:
        op["security"] = []  # no credentials; throttled per client address
        op["responses"]["429"] = {"description": "Too many guest requests from this address (Retry-After)", **status}
    return op


def _response_schema(schemas: Schemas, b: Binding) -> dict:
    if b.response_body:
        return schemas.field(b.method.output_type.fields_by_name[b.response_body])
    return schemas.message(b.method.output_type)


def openapi_document(
    bindings: list[Binding], title: str, bearer_auth: bool, access: Callable[[Binding], Access] | None = None
) -> dict:
    """`bearer_auth`: the partner API key is the document's security; `access`: each route's on the client
    surface (customer token, guest or neither)."""
    schemas = Schemas()
    paths: dict[str, dict] = {}
    accesses = {id(b): access(b) if access else Access.OPEN for b in bindings}
    for b in bindings:
        path = b.template.render(path_parameter_names(b).__getitem__)
        paths.setdefault(path, {})[b.http_method.lower()] = _operation(schemas, b, accesses[id(b)])
    components: dict = {"schemas": dict(sorted(schemas.components.items()))}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "v1"},
        "paths": paths,
        "components": components,
    }
    schemes = {"apiKey"} if bearer_auth else set()
    schemes |= {CUSTOMER_TOKEN} if Access.CUSTOMER in accesses.values() else set()
    if schemes:
        components["securitySchemes"] = {name: scheme for name, scheme in _SCHEMES.items() if name in schemes}
    if bearer_auth:
        doc["security"] = [{"apiKey": []}]
    return doc


def docs_page(doc: dict) -> str:
    """A self-contained page (no CDN): the operations, and the document to feed any OpenAPI tool."""
    rows = "".join(
        f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}</code></td>"
        f"<td>{html.escape(op['operationId'])}</td></tr>"
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    )
    title = html.escape(doc["info"]["title"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}</style></head>"
        f"<body><h1>{title}</h1><p>OpenAPI 3 document: <a href='openapi.json'>openapi.json</a>. "
        "Errors are <code>google.rpc.Status</code> JSON; names are lowerCamelCase (snake_case accepted).</p>"
        f"<table><tr><th>Method</th><th>Path</th><th>Operation</th></tr>{rows}</table></body></html>"
    )
