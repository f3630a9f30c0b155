"""The OpenAPI 3 document of a listener, generated from the same bindings that route its requests."""

from __future__ import annotations

import html

from google.protobuf.descriptor import Descriptor
from google.rpc import status_pb2

from services.gateway.bindings import Binding
from services.gateway.fields import is_plain_message, is_query_leaf, is_repeated, resolve_field_path
from services.gateway.schemas import Schemas

_MAX_QUERY_DEPTH = 3
# The writes whose service honours an Idempotency-Key (a replay answers as the first request did, another
# body is IDEMPOTENCY_KEY_REUSED, one in flight IDEMPOTENCY_KEY_IN_USE): only they advertise the header.
# The other writes are safe to retry in other ways, or not at all (docs/gateway.md, "Retrying a write").
HONOURS_IDEMPOTENCY_KEY = frozenset(
    {"novatrek.partners.v1.PartnerService.RegisterPartner", "novatrek.partners.v1.PartnerService.CreatePartnerBooking"}
)


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
                params += _query_parameters(schemas, field.message_type, skip, path + ".", name + ".", depth + 1)
        elif is_query_leaf(field):
            param = {"name": name, "in": "query", "required": False, "schema": schemas.field(field)}
            if is_repeated(field):
                param.update(style="form", explode=True)
            params.append(param)
    return params


def _field_schema(schemas: Schemas, message: Descriptor, path: str) -> dict:
    return schemas.field(resolve_field_path(message, path)[-1])


def _operation(schemas: Schemas, b: Binding) -> dict:
    request, names = b.method.input_type, path_parameter_names(b)
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
        params += _query_parameters(schemas, request, {*b.template_fields, b.body})
    op = {
        "operationId": b.operation_id,
        "summary": b.method.name,
        "tags": [b.method.containing_service.name],
        "parameters": [*params, {"$ref": "#/components/parameters/RequestId"}],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _response_schema(schemas, b)}}},
            "default": {
                "description": "Error: a google.rpc.Status with its details",
                "content": {"application/json": {"schema": schemas.message(status_pb2.Status.DESCRIPTOR)}},
            },
        },
    }
    if b.method.full_name in HONOURS_IDEMPOTENCY_KEY:
        op["parameters"].append({"$ref": "#/components/parameters/IdempotencyKey"})
    if b.body:
        top = {f.split(".")[0] for f in b.template_fields}
        schema = (
            schemas.object(request, frozenset(top)) if b.body == "*" else schemas.field(request.fields_by_name[b.body])
        )
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    return op


def _response_schema(schemas: Schemas, b: Binding) -> dict:
    if b.response_body:
        return schemas.field(b.method.output_type.fields_by_name[b.response_body])
    return schemas.message(b.method.output_type)


def _header(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]+$"},
    }


def openapi_document(bindings: list[Binding], title: str, bearer_auth: bool) -> dict:
    schemas = Schemas()
    paths: dict[str, dict] = {}
    for b in bindings:
        path = b.template.render(path_parameter_names(b).__getitem__)
        paths.setdefault(path, {})[b.http_method.lower()] = _operation(schemas, b)
    components: dict = {
        "schemas": dict(sorted(schemas.components.items())),
        "parameters": {
            "RequestId": _header(
                "X-Request-Id", "Correlates logs across the mesh; generated when absent and always echoed."
            ),
            "IdempotencyKey": _header(
                "Idempotency-Key",
                "Makes a retried write safe: the same key and body answer as the first request did (a new"
                " partner's API key excepted: it is shown once). Forwarded as `idempotency-key` metadata.",
            ),
        },
    }
    doc = {"openapi": "3.0.3", "info": {"title": title, "version": "v1"}, "paths": paths, "components": components}
    if bearer_auth:
        components["securitySchemes"] = {
            "apiKey": {"type": "http", "scheme": "bearer", "description": "Partner API key"}
        }
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
