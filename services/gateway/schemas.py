"""JSON Schemas (OpenAPI 3.0 flavour) of protobuf messages as the proto3 JSON mapping writes them."""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from services.gateway.fields import is_map, is_repeated

_T = FieldDescriptor
Schema = dict[str, Any]  # a JSON Schema object
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**32 - 1}
# 64-bit integers are JSON strings in the canonical mapping (numbers are accepted too).
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]{1,19}$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]{1,20}$"}
SCALARS: dict[int, Schema] = {
    _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _T.TYPE_FLOAT: {"type": "number", "format": "float"},
    _T.TYPE_INT32: _INT32,
    _T.TYPE_SINT32: _INT32,
    _T.TYPE_SFIXED32: _INT32,
    _T.TYPE_UINT32: _UINT32,
    _T.TYPE_FIXED32: _UINT32,
    _T.TYPE_INT64: _INT64,
    _T.TYPE_SINT64: _INT64,
    _T.TYPE_SFIXED64: _INT64,
    _T.TYPE_UINT64: _UINT64,
    _T.TYPE_FIXED64: _UINT64,
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WRAPPED = {
    "Double": "double",
    "Float": "float",
    "Int64": "int64",
    "UInt64": "uint64",
    "Int32": "int32",
    "UInt32": "uint32",
    "Bool": "bool",
    "String": "string",
    "Bytes": "bytes",
}
# Well-known types have their own JSON forms.
WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC (Z)"},
    "google.protobuf.Duration": {
        "type": "string",
        "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
        "description": "seconds with an s suffix, e.g. 1.5s",
    },
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated field paths"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    **{
        f"google.protobuf.{name}Value": {**SCALARS[getattr(_T, f"TYPE_{kind.upper()}")], "nullable": True}
        for name, kind in _WRAPPED.items()
    },
}
# google.type messages are ordinary messages; these say what their fields mean and bound them.
NOTES: dict[str, tuple[str, dict[str, Schema]]] = {
    "google.type.Date": (
        "A calendar date; year 1-9999 for a full date.",
        {
            "year": {"minimum": 0, "maximum": 9999},
            "month": {"minimum": 0, "maximum": 12},
            "day": {"minimum": 0, "maximum": 31},
        },
    ),
    "google.type.Money": (
        "An amount: units + nanos / 10^9 in currency_code (ISO 4217), exact: decimal units and nanos.",
        {"nanos": {"minimum": -999_999_999, "maximum": 999_999_999}},
    ),
}
REQUIRED, OUTPUT_ONLY = field_behavior_pb2.REQUIRED, field_behavior_pb2.OUTPUT_ONLY


def unset_or_uuid() -> Schema:
    """An id that is not REQUIRED: the JSON mapping prints one that is not set as ""."""
    return {"type": "string", "anyOf": [{"format": "uuid"}, {"maxLength": 0}], "description": "a UUID, or empty"}


def behaviors(field: FieldDescriptor) -> set[int]:
    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


class Schemas:
    """Collects the `components/schemas` of the messages it is asked to reference."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def message(self, descriptor: Descriptor) -> Schema:
        if descriptor.full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursive messages stop here
            self.components[name] = self.object(descriptor)
        return {"$ref": f"#/components/schemas/{name}"}

    def object(self, descriptor: Descriptor, exclude: frozenset[str] = frozenset()) -> Schema:
        description, bounds = NOTES.get(descriptor.full_name, ("", {}))
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for field in descriptor.fields:
            if field.name in exclude:
                continue
            schema = {**self.field(field), **bounds.get(field.name, {})}
            if OUTPUT_ONLY in behaviors(field):
                # OpenAPI 3.0 ignores siblings of $ref, hence the allOf.
                schema = {"allOf": [schema], "readOnly": True} if "$ref" in schema else {**schema, "readOnly": True}
            elif REQUIRED in behaviors(field):
                required.append(field.json_name)
            properties[field.json_name] = schema
        # The gateway refuses unknown fields, so the document says so.
        out: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        if description:
            out["description"] = description
        return out

    def field(self, field: FieldDescriptor) -> Schema:
        message, enum = field.message_type, field.enum_type  # set for message and enum fields
        if message is not None and is_map(field):
            return {"type": "object", "additionalProperties": self.field(message.fields_by_name["value"])}
        if field.type == _T.TYPE_MESSAGE and message is not None:
            base = self.message(message)
        elif field.type == _T.TYPE_ENUM and enum is not None:
            base = {"type": "string", "enum": [v.name for v in enum.values]}
        else:
            base = dict(SCALARS[field.type])
            if field.type == _T.TYPE_STRING and (field.name == "id" or field.name.endswith("_id")):
                base["format"] = "uuid"  # the platform's ids are UUID strings (DESIGN §4)
                if not is_repeated(field) and REQUIRED not in behaviors(field):
                    base = unset_or_uuid()
        return {"type": "array", "items": base} if is_repeated(field) else base
