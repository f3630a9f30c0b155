"""Typed domain errors. Pure Python: the chassis call wrapper (interceptors.py) maps them to gRPC status + details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error a handler raises on purpose. `reason` is UPPER_SNAKE (ErrorInfo)."""

    message: str
    reason: str = "DOMAIN_ERROR"
    metadata: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(DomainError):
    reason: str = "INVALID_ARGUMENT"
    violations: list[FieldViolation] = field(default_factory=list)


def key_reused(key: str, value: object) -> InvalidArgument:
    """An idempotency key (`key` = `value`) sent again with another request than its first."""
    return InvalidArgument(
        f"{key} {value} was already used with different values",
        reason="IDEMPOTENCY_KEY_REUSED",
        metadata={key: str(value)},
    )


class NotFound(DomainError):
    pass


class AlreadyExists(DomainError):
    pass


class FailedPrecondition(DomainError):
    pass


class Aborted(DomainError):
    """A concurrency conflict (stale revision, in-flight duplicate): re-read and retry."""


@dataclass
class Unavailable(DomainError):
    """A dependency is down; the caller may retry after `retry_after_s`."""

    reason: str = "DEPENDENCY_UNAVAILABLE"
    retry_after_s: float = 1.0


class DeadlineExceeded(DomainError):
    pass


class Unauthenticated(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


@dataclass
class ResourceExhausted(DomainError):
    retry_after_s: float = 1.0


class Violations:
    """Collects every bad field of a request so the caller learns them all at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def check(self, ok: bool, field_path: str, description: str) -> bool:
        if not ok:
            self.add(field_path, description)
        return ok

    def refused(self, field_path: str) -> bool:
        """Whether a violation names the field (a parser that refused it returned a placeholder)."""
        return any(item.field == field_path for item in self.items)

    def raise_if_any(self) -> None:
        if self.items:
            fields = ", ".join(v.field for v in self.items)
            raise InvalidArgument(f"invalid request: {fields}", violations=list(self.items))


def error_record(error: DomainError) -> dict[str, Any]:
    """A JSON-able record of a final error, to answer a replayed request the same way."""
    return {"kind": type(error).__name__, "message": error.message, "reason": error.reason, "metadata": error.metadata}


def error_from_record(record: dict[str, Any]) -> DomainError:
    kinds = {cls.__name__: cls for cls in _subclasses(DomainError)}
    cls = kinds.get(record["kind"], DomainError)
    return cls(record["message"], reason=record["reason"], metadata=record["metadata"])


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    return [cls, *(s for sub in cls.__subclasses__() for s in _subclasses(sub))]
