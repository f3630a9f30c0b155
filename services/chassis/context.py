"""Per-call context that travels with the request: request id, actor, and the absolute deadline."""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# Monotonic instant at which the current inbound call's deadline expires (None: no deadline).
deadline_var: ContextVar[float | None] = ContextVar("deadline", default=None)

REQUEST_ID_HEADER = "x-request-id"
# Set on every call one service makes to another: part of work already admitted at the mesh's edge.
MESH_CALL_HEADER = "x-novatrek-mesh-call"


def new_request_id() -> str:
    return uuid.uuid4().hex


def remaining_time() -> float | None:
    """Seconds left of the inbound call's deadline, or None outside a call / without deadline."""
    deadline = deadline_var.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def outbound_timeout(default_s: float) -> float:
    """The deadline of an outbound call: our default, shortened to what the caller has left."""
    left = remaining_time()
    return default_s if left is None else min(default_s, left)


def outbound_metadata() -> tuple[tuple[str, str], ...]:
    rid = request_id_var.get()
    return ((MESH_CALL_HEADER, "1"), *(((REQUEST_ID_HEADER, rid),) if rid else ()))
