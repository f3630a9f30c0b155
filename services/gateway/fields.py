"""Descriptor questions the gateway asks about request fields: repeated? map? settable from a URL?"""

from __future__ import annotations

from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

FIELD_MASK = "google.protobuf.FieldMask"
# Well-known types whose JSON form is one string/number/bool, so a path or query value can carry them.
SCALAR_WKT = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    FIELD_MASK,
    *(
        f"google.protobuf.{t}Value"
        for t in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
    ),
}


def descriptor_of(message: Message) -> Descriptor:
    """types-protobuf types the upb runtime's descriptors as another class (same API)."""
    return cast(Descriptor, message.DESCRIPTOR)


def is_repeated(field: FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED  # type: ignore[attr-defined]  # protobuf < 5.29 only


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def is_plain_message(field: FieldDescriptor) -> bool:
    """A singular message that JSON writes as an object of its fields (not a well-known type)."""
    return (
        field.type == FieldDescriptor.TYPE_MESSAGE
        and not is_repeated(field)
        and field.message_type is not None
        and not field.message_type.full_name.startswith("google.protobuf.")
    )


def is_query_leaf(field: FieldDescriptor) -> bool:
    """Whether a path or query string value can set this field."""
    return not is_map(field) and (field.message_type is None or field.message_type.full_name in SCALAR_WKT)


def field_named(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    """By proto name or JSON name: the mapping accepts both."""
    found = descriptor.fields_by_name.get(name)
    return found or next((f for f in descriptor.fields if f.json_name == name), None)


def resolve_field_path(descriptor: Descriptor, path: str) -> list[FieldDescriptor]:
    """`trip_date.year` (or `tripDate.year`) -> its fields; KeyError when it names no field."""
    fields: list[FieldDescriptor] = []
    current: Descriptor | None = descriptor
    for name in path.split("."):
        found = field_named(current, name) if current is not None else None
        if found is None:
            raise KeyError(path)
        fields.append(found)
        current = found.message_type if is_plain_message(found) else None
    return fields


def proto_path(fields: list[FieldDescriptor]) -> str:
    return ".".join(f.name for f in fields)
