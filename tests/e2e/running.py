"""Drives `novatrek up` as a user runs it: a subprocess whose output is collected, the addresses its
banner prints, the lines it prints run as printed, its health checked, Ctrl-C."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.children import port_free
from services.cli.registry import REGISTRY

BANNER_END = "Press Ctrl-C to stop."
START_TIMEOUT_S = 180.0
SERVICE_LINE = re.compile(r"^\s+(?P<name>[a-z-]+)\s+(?P<addr>127\.0\.0\.1:\d+)\s+(?P<proto>novatrek\.\S+)$")


GATEWAY_OFFSET = 29  # `up --base-port P` puts the gateway on P + 29 (public) and P + 30 (internal)


def free_base_port() -> int:
    """A base port whose whole block (the registry's default spacing) is free."""
    first = min(s.port for s in REGISTRY.values())
    offsets = [s.port - first for s in REGISTRY.values()] + [GATEWAY_OFFSET, GATEWAY_OFFSET + 1]
    for base in range(21000 + os.getpid() % 1000 * 20, 60000, 37):
        if all(port_free("127.0.0.1", base + o) for o in offsets):
            return base
    raise AssertionError("no free block of ports")


class Up:
    """One `novatrek up` process; its combined output is collected by a thread."""

    def __init__(self, data_dir: Path, base_port: int, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.banner_seen = threading.Event()
        self.env, self.cwd = env, data_dir.parent
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "up",
                "--data-dir",
                str(data_dir),
                "--base-port",
                str(base_port),
            ],
            env=env,
            cwd=data_dir.parent,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == BANNER_END:
                self.banner_seen.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_banner(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.banner_seen.wait(0.5):
            assert self.process.poll() is None, f"`novatrek up` exited with {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no banner after {START_TIMEOUT_S}s:\n{self.output}"

    def addresses(self) -> dict[str, tuple[str, str]]:
        """service name -> (address, proto service) as the banner prints them."""
        return {m["name"]: (m["addr"], m["proto"]) for m in map(SERVICE_LINE.match, self.lines) if m}

    def grpcurl_line(self, endswith: str) -> list[str]:
        lines = [ln.strip() for ln in self.lines if " grpcurl -plaintext " in ln and endswith in ln]
        assert lines, f"no grpcurl line with {endswith!r} in the banner:\n{self.output}"
        return shlex.split(lines[0])

    def run_printed(self, argv: list[str]) -> str:
        """Runs a printed command line as the user would, from where `up` was started."""
        result = subprocess.run(argv, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, f"{shlex.join(argv)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def wait_output(self, text: str, after: int = 0, timeout_s: float = 60.0) -> int:
        """The index of the first output line from `after` on that contains `text`."""
        deadline = time.monotonic() + timeout_s
        while (found := next((i for i in range(after, len(self.lines)) if text in self.lines[i]), None)) is None:
            assert self.process.poll() is None, f"`novatrek up` exited with {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} in the output after {timeout_s}s:\n{self.output}"
            time.sleep(0.1)
        return found

    def children(self) -> dict[str, int]:
        """name -> pid of the services and the gateway `up` runs now."""
        found = {}
        for child in psutil.Process(self.process.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if (argv := child.cmdline())[-2:-1] == ["serve"]:
                    found[argv[-1]] = child.pid
        return found

    def interrupt(self, timeout_s: float = 30.0) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"`novatrek up` did not stop within {timeout_s}s after SIGINT:\n{self.output}"
            ) from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def check_serving(addresses: dict[str, tuple[str, str]]) -> None:
    for name, (addr, proto) in addresses.items():
        with grpc.insecure_channel(addr) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", proto):
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING, (name, service)


def curl_request(line: str) -> tuple[str, dict[str, str], bytes | None]:
    """URL, headers and body (None: a GET) of a printed `curl [-X POST] URL -H … [-d BODY]` line."""
    argv, headers = shlex.split(line), {}
    for flag, value in itertools.pairwise(argv):
        if flag == "-H":
            name, _, text = value.partition(": ")
            headers[name] = text
    body = argv[argv.index("-d") + 1].encode() if "-d" in argv else None
    return next(a for a in argv if a.startswith("http")), headers, body


def run_curl(line: str) -> tuple[int, dict]:
    """Sends what a printed curl line says, with urllib (no curl needed)."""
    url, headers, body = curl_request(line)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def http_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code
