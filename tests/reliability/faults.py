"""Fault injection and load for the reliability scenarios: a TCP proxy that can take a dependency
down (refuse new connections, cut open ones) and bring it back on the same port, a bounded load
that records the outcome and latency of every call, and health probes."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.embedded import free_port
from tests.integration.partner_fixtures import as_key, booking_request

Call = Callable[[float], Awaitable[str]]  # one request under this deadline (s); answers the id it made


class FaultProxy:
    """Loopback TCP proxy in front of `target` ("host:port"). From the callers' side `down()` is a
    server that stopped or crashed (connections refused, open ones reset mid-call) and `up()` is
    the same server back on the same address."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self.target, self.port = (host, int(port)), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.Task] = set()
        self._transports: set[asyncio.Transport] = set()

    async def up(self) -> FaultProxy:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()  # an RST, like a killed process: no orderly goodbye
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._transports |= {client_writer.transport, upstream_writer.transport}
        pipes = [
            asyncio.create_task(_pump(client_reader, upstream_writer)),
            asyncio.create_task(_pump(upstream_reader, client_writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
                self._pipes.discard(task)
            for writer in (client_writer, upstream_writer):
                self._transports.discard(writer.transport)
                writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


@dataclass
class Outcome:
    started: float  # monotonic
    seconds: float
    code: grpc.StatusCode
    made: str = ""  # the id of what the call created

    @property
    def ended(self) -> float:
        return self.started + self.seconds


def partner_booking(stub, api_key: str, guest_id: str, trip_id: str, day) -> Call:
    """One partner booking of one seat under a new Idempotency-Key; answers the booking id."""
    request = booking_request(guest_id, trip_id, day, 1)

    async def book(timeout_s: float) -> str:
        answer = await stub.CreatePartnerBooking(request, metadata=as_key(api_key, uuid.uuid4().hex), timeout=timeout_s)
        return answer.booking.booking_id

    return book


@dataclass
class Load:
    """`workers` callers making `call` in a loop until stopped or `max_calls` were made: bounded in
    time and in count. Every outcome is kept with its start time and latency."""

    call: Call
    workers: int = 8
    deadline_s: float = 5.0
    max_calls: int = 2000
    outcomes: list[Outcome] = field(default_factory=list)

    async def __aenter__(self) -> Load:
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _worker(self) -> None:
        while not self._stop.is_set() and len(self.outcomes) < self.max_calls:
            started = time.monotonic()
            try:
                made = await self.call(self.deadline_s)
                self.outcomes.append(Outcome(started, time.monotonic() - started, grpc.StatusCode.OK, made))
            except grpc.aio.AioRpcError as err:
                self.outcomes.append(Outcome(started, time.monotonic() - started, err.code()))
                await asyncio.sleep(0.05)  # a failing caller backs off a little, as a client would

    def between(self, start: float, end: float = float("inf")) -> list[Outcome]:
        """Calls made entirely within [start, end)."""
        return [o for o in self.outcomes if start <= o.started and o.ended < end]

    def started_between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.started < end]

    def confirmed(self) -> list[str]:
        return [o.made for o in self.outcomes if o.code is grpc.StatusCode.OK]

    async def successes(self, n: int, timeout_s: float) -> None:
        give_up = time.monotonic() + timeout_s
        while len(self.confirmed()) < n:
            assert time.monotonic() < give_up, (
                f"fewer than {n} bookings succeeded in {timeout_s}s: {summary(self.outcomes)}"
            )
            await asyncio.sleep(0.05)

    async def first_success_after(self, moment: float, timeout_s: float = 20.0) -> float:
        """Seconds from `moment` until a call started after it succeeded."""
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up:
            ok = [o for o in self.outcomes if o.started >= moment and o.code is grpc.StatusCode.OK]
            if ok:
                return min(o.ended for o in ok) - moment
            await asyncio.sleep(0.1)
        raise AssertionError(f"no booking succeeded within {timeout_s}s after the fault was repaired")


def summary(outcomes: list[Outcome]) -> dict:
    codes = dict(Counter(o.code.name for o in outcomes))
    failed = [o.seconds for o in outcomes if o.code is not grpc.StatusCode.OK]
    return {"calls": len(outcomes), "codes": codes, "max_failed_s": round(max(failed, default=0.0), 3)}


async def health(address: str) -> int:
    """grpc.health.v1 status of the server at `address` (overall), UNKNOWN when it does not answer."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            return (await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)).status
        except grpc.aio.AioRpcError:
            return health_pb2.HealthCheckResponse.UNKNOWN


async def all_report(addresses: list[str], status: int) -> bool:
    return all([await health(a) == status for a in addresses])
