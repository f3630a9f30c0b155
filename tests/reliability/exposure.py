"""What a caller or an operator gets to see: every byte of an answer (response, or status message
with its details and trailing metadata), and every log line written while something runs."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import grpc

from services.chassis.logging import JsonFormatter
from tests.helpers import RpcFailure, parse_failure

# The test's own HTTP client: what it logs is the caller's business, not the mesh's.
CLIENT_LOGGERS = ("httpx", "httpcore")


async def answer(call) -> tuple[bytes, RpcFailure | None]:
    """Everything one unary call answered, as bytes to search (the response, or the failure's message
    and trailing metadata), and the parsed failure (None when it succeeded)."""
    try:
        return (await call).SerializeToString(), None
    except grpc.aio.AioRpcError as err:
        trailers = b"".join(
            k.encode() + (v if isinstance(v, bytes) else v.encode()) for k, v in err.trailing_metadata() or ()
        )
        return (err.details() or "").encode() + trailers, parse_failure(err)


async def answer_bytes(call) -> bytes:
    return (await answer(call))[0]


def shows(blob: bytes | str, secrets: list[str]) -> list[str]:
    """The secrets that appear in `blob`."""
    text = blob if isinstance(blob, str) else blob.decode("utf-8", "replace")
    return [s for s in secrets if s and s in text]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter("capture"))  # the production format: message, extras and stack
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(CLIENT_LOGGERS):
            self.lines.append(self.format(record))


@contextmanager
def every_log_line():
    """Every record any logger writes meanwhile, at DEBUG and in the services' JSON format."""
    root, handler = logging.getLogger(), _Collect()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
