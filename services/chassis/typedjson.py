"""Frozen dataclasses <-> JSON values, driven by their field types: a saga's persisted state, a stored
answer. Exact round trips: UUID, Decimal, date and datetime are strings (never floats), enums their
value, nested dataclasses objects, tuples lists; a class with `to_json` / `from_json` codes itself.
A field absent from the JSON takes its default (fields added later read older documents)."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

_SCALARS = (bool, int, str)


def to_json(value: Any) -> Any:
    if value is None or (isinstance(value, _SCALARS) and not isinstance(value, Enum)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if hasattr(value, "to_json"):
        return value.to_json()
    if dataclasses.is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    raise TypeError(f"{type(value).__name__} has no JSON form")  # floats included: no floats for money


def from_json(kind: Any, data: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):  # `X | None`
        inner = [a for a in args if a is not type(None)]
        return None if data is None else from_json(inner[0], data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], item) for item in data)
        return tuple(from_json(a, item) for a, item in zip(args, data, strict=True))
    if kind is Any:
        return data
    if hasattr(kind, "from_json"):
        return kind.from_json(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):  # the class, never an instance
        hints = _hints(kind)
        return kind(**{f.name: from_json(hints[f.name], data[f.name]) for f in _fields(kind) if f.name in data})
    if kind is datetime or kind is date:
        return kind.fromisoformat(data)
    if kind in (uuid.UUID, Decimal) or issubclass(kind, Enum):
        return kind(data)
    if kind in _SCALARS and isinstance(data, kind):
        return data
    raise TypeError(f"{data!r} is no {kind!r}")


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


@functools.cache
def _fields(kind: type) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(kind) if f.init)
