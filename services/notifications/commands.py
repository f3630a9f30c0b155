"""Validated inputs of the notification use cases (built by the servicer from protobuf)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListNotifications:
    filters: dict  # column -> value (None: any)
    position: list | None
    limit: int
