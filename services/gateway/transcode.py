"""HTTP request <-> protobuf message, with the canonical proto3 JSON mapping (json_format).

json_format converts each value; the walk around it is ours so that every bad field is reported
at its own path (unknown field, wrong type) in one BadRequest, before any RPC is made.
"""

from __future__ import annotations

import json
import re
from typing import Any

from google.protobuf import field_mask_pb2, json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.gateway.errors import invalid
from services.gateway.fields import (
    FIELD_MASK,
    SCALAR_WKT,
    descriptor_of,
    field_named,
    is_map,
    is_plain_message,
    is_query_leaf,
    is_repeated,
    proto_path,
    resolve_field_path,
)

MAX_DEPTH = 32
_T = FieldDescriptor
_KINDS = {
    _T.TYPE_DOUBLE: "a number",
    _T.TYPE_FLOAT: "a number",
    _T.TYPE_BOOL: "true or false",
    _T.TYPE_STRING: "a string",
    _T.TYPE_BYTES: "base64-encoded bytes",
    **dict.fromkeys((_T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_SFIXED32), "a 32-bit integer"),
    **dict.fromkeys((_T.TYPE_UINT32, _T.TYPE_FIXED32), "a non-negative 32-bit integer"),
    **dict.fromkeys((_T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_SFIXED64), "a 64-bit integer (number or string)"),
    **dict.fromkeys((_T.TYPE_UINT64, _T.TYPE_FIXED64), "a non-negative 64-bit integer (number or string)"),
}
_WKT_KINDS = {
    "google.protobuf.Timestamp": "an RFC 3339 timestamp, e.g. 2027-01-31T09:00:00Z",
    "google.protobuf.Duration": "a duration in seconds, e.g. 1.5s",
    FIELD_MASK: "comma-separated field paths",
    "google.protobuf.ListValue": "a JSON array",
    "google.protobuf.Any": "a JSON object with an @type",
}


def expected(field: FieldDescriptor, one_value: bool = False) -> str:
    """What the JSON mapping accepts for the field, said for a person (json_format's texts are not)."""
    if is_map(field):
        return "must be a JSON object"
    if field.enum_type is not None:
        kind = "one of " + ", ".join(v.name for v in field.enum_type.values)
    elif field.message_type is not None:
        wrapped = field.message_type.fields_by_name.get("value") if field.message_type.full_name in SCALAR_WKT else None
        kind = _WKT_KINDS.get(field.message_type.full_name) or (_KINDS[wrapped.type] if wrapped else "a JSON object")
    else:
        kind = _KINDS[field.type]
    return f"must be a JSON array, each item {kind}" if is_repeated(field) and not one_value else f"must be {kind}"


def _assign(
    container: Message, field: FieldDescriptor, value, path: str, violations: list, one_value: bool = False
) -> None:
    """Sets one field from its JSON value, replacing what was there."""
    scratch = type(container)()
    try:
        json_format.ParseDict({field.name: value}, scratch)
    except json_format.ParseError:
        violations.append((path, expected(field, one_value)))
        return
    container.ClearField(field.name)
    container.MergeFrom(scratch)


def _merge_object(message: Message, obj, prefix: str, violations: list, depth: int = 0) -> None:
    if not isinstance(obj, dict):
        violations.append((prefix.rstrip(".") or "body", "must be a JSON object"))
        return
    if depth > MAX_DEPTH:  # only recursive message types get here; stop before Python's stack does
        violations.append((prefix.rstrip("."), f"nested more than {MAX_DEPTH} levels deep"))
        return
    seen: set[int] = set()
    for key, value in obj.items():
        field, path = field_named(descriptor_of(message), key), prefix + key
        if field is None:
            violations.append((path, "unknown field"))
            continue
        if field.number in seen:
            violations.append((path, "given twice (by its proto and its JSON name)"))
            continue
        seen.add(field.number)
        if value is None and not (field.message_type and field.message_type.full_name == "google.protobuf.Value"):
            continue  # null: the field keeps its default
        if is_plain_message(field):
            child = getattr(message, field.name)
            child.SetInParent()
            _merge_object(child, value, path + ".", violations, depth + 1)
        else:
            _assign(message, field, value, path, violations)


def load_json(body: bytes):
    if not body.strip():
        return {}  # no body is an empty message, as grpc-gateway reads it
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise invalid(
            [("body", f"malformed JSON: {exc}")], reason="MALFORMED_JSON", message="request body is not valid JSON"
        ) from None


def _string_value(field: FieldDescriptor, value: str):
    """A path/query string as the JSON value json_format expects for the field."""
    is_bool = field.type == FieldDescriptor.TYPE_BOOL or (
        field.message_type and field.message_type.full_name == "google.protobuf.BoolValue"
    )
    if is_bool:
        return {"true": True, "false": False}.get(value.lower(), value)
    return value


def _set_from_strings(
    message: Message, fields: list[FieldDescriptor], values: list[str], path: str, violations: list
) -> None:
    leaf = fields[-1]
    container = message
    for f in fields[:-1]:
        container = getattr(container, f.name)
    if leaf.message_type is not None and leaf.message_type.full_name == FIELD_MASK:
        # Paths in a URL may be snake_case (`update_mask=party_size`) or camelCase, comma-separated.
        paths = [p for v in values for p in v.split(",") if p]
        mask = field_mask_pb2.FieldMask(paths=[p if "_" in p else re.sub(r"([A-Z])", r"_\1", p).lower() for p in paths])
        getattr(container, leaf.name).CopyFrom(mask)
        return
    converted = [_string_value(leaf, v) for v in values]
    _assign(container, leaf, converted if is_repeated(leaf) else converted[0], path, violations, one_value=True)


def _apply_query(message: Message, binding, query: list[tuple[str, str]], violations: list) -> set[str]:
    grouped: dict[str, list[str]] = {}
    for key, value in query:
        grouped.setdefault(key, []).append(value)
    if binding.body == "*":
        violations += [
            (key, "query parameters are not accepted: the body carries the whole request") for key in grouped
        ]
        return set()
    bound = {*binding.template_fields, binding.body}
    set_paths = set()
    for key, values in grouped.items():
        try:
            fields = resolve_field_path(descriptor_of(message), key)
        except KeyError:
            violations.append((key, "unknown query parameter"))
            continue
        path = proto_path(fields)
        if any(path == b or path.startswith(b + ".") for b in bound if b):
            violations.append((key, "is set by the path or the body, not the query"))
        elif not is_query_leaf(fields[-1]):
            violations.append((key, "cannot be set from a query parameter"))
        elif len(values) > 1 and not is_repeated(fields[-1]):
            violations.append((key, "must be given once"))
        else:
            _set_from_strings(message, fields, values, key, violations)
            set_paths.add(path)
    return set_paths


def _mask_from_body(message: Message, binding, body_obj, query_paths: set[str]) -> None:
    """PATCH with a resource body and no update_mask: the mask names the fields the body sets."""
    mask_field = descriptor_of(message).fields_by_name.get("update_mask")
    if (
        binding.http_method != "PATCH"
        or binding.body in ("", "*")
        or mask_field is None
        or mask_field.message_type is None
        or mask_field.message_type.full_name != FIELD_MASK
        or "update_mask" in query_paths
        or not isinstance(body_obj, dict)
    ):
        return
    resource = descriptor_of(message).fields_by_name[binding.body].message_type
    fields = [field_named(resource, key) for key in body_obj] if resource else []
    # Fields the path binds (the resource's id) identify the resource; they are not being changed.
    named = [f.name for f in fields if f is not None and f"{binding.body}.{f.name}" not in binding.template_fields]
    message.update_mask.paths.extend(named)  # type: ignore[attr-defined]  # checked above: it has the field


def from_http(binding, path_values: dict[str, str], query: list[tuple[str, str]], body: bytes) -> Message:
    """The request message: body first, then query parameters, then path variables (which win)."""
    message = binding.request_cls()
    violations: list[tuple[str, str]] = []
    body_obj = None
    if binding.body:
        body_obj = load_json(body)
        _merge_object(message, body_obj if binding.body == "*" else {binding.body: body_obj}, "", violations)
    query_paths = _apply_query(message, binding, query, violations)
    for path, value in path_values.items():
        _set_from_strings(message, resolve_field_path(descriptor_of(message), path), [value], path, violations)
    if violations:
        raise invalid(violations)
    _mask_from_body(message, binding, body_obj, query_paths)
    return message


def to_json(binding, response: Message) -> bytes:
    data: Any = json_format.MessageToDict(response, always_print_fields_with_no_presence=True)
    if binding.response_body:
        data = data.get(response.DESCRIPTOR.fields_by_name[binding.response_body].json_name)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
