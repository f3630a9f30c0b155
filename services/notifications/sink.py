"""A local webhook receiver for the demo and the tests: checks each delivery's signature as a partner
would (services/notifications/signature.py), records it (and appends it to a JSON-lines log), and
can be told to answer 500 for a while. A stdlib threaded HTTP server, so it runs beside anything."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from services.notifications.signature import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Received:
    event_id: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool
    answered: int

    def json(self) -> dict:
        return json.loads(self.body)


class WebhookSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, log_path: Path | None = None) -> None:
        self.host, self.port, self.log_path = host, port, log_path
        self.received: list[Received] = []
        self._secrets: list[str] = []
        self._failures_left, self._failure_status = 0, 500
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/webhooks"

    def trust(self, secret: str) -> None:
        """Deliveries signed with this secret are accepted (any trusted one will do)."""
        with self._lock:
            self._secrets.append(secret)

    def fail_next(self, count: int, status: int = 500) -> None:
        """The next `count` deliveries are answered `status` (a receiver that is down for a while)."""
        with self._lock:
            self._failures_left, self._failure_status = count, status

    def start(self) -> WebhookSink:
        self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def take(self, event_id: str, timestamp: str, signature: str, body: bytes) -> int:
        """Records one delivery and returns the HTTP status to answer."""
        with self._lock:
            verified = any(verify(s, timestamp, body, signature, time.time()) for s in self._secrets)
            if self._failures_left:
                self._failures_left -= 1
                answer = self._failure_status
            else:
                answer = 200 if verified else 401  # a partner refuses what it cannot verify
            received = Received(event_id, timestamp, signature, body, verified, answer)
            self.received.append(received)
            if self.log_path is not None:
                with self.log_path.open("a") as log:
                    log.write(
                        json.dumps(
                            {
                                "time": time.time(),
                                "event_id": event_id,
                                "verified": verified,
                                "answered": answer,
                                "body": _parsed(body),
                            }
                        )
                        + "\n"
                    )
        return answer


def _parsed(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return body.decode(errors="replace")


def _handler(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True  # the body stays unread
                return self._answer(413)
            body = self.rfile.read(length)
            h = self.headers
            self._answer(
                sink.take(h.get(EVENT_ID_HEADER, ""), h.get(TIMESTAMP_HEADER, ""), h.get(SIGNATURE_HEADER, ""), body)
            )

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # quiet: deliveries are recorded, not printed
            pass

    return Handler
