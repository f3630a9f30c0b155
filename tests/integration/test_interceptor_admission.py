"""The chassis call handling on a tiny grpc.aio server: bytes that are no request are
INVALID_ARGUMENT (not grpc's UNKNOWN with the parser's text), admission control runs at most
`max_active` calls entering the mesh at once, queueing the rest, while calls between services and
health checks pass, and calls beyond `max_calls` in progress are RESOURCE_EXHAUSTED."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.type import date_pb2

from services.chassis.context import MESH_CALL_HEADER
from services.chassis.interceptors import ServerCalls
from tests.helpers import eventually, fails


class Slow:
    """A handler whose calls run until the test opens the gate; it remembers how many ran at once."""

    def __init__(self) -> None:
        self.running = self.most = 0
        self.gate = asyncio.Event()

    async def __call__(self, request: date_pb2.Date, context) -> date_pb2.Date:
        self.running += 1
        self.most = max(self.most, self.running)
        await self.gate.wait()
        self.running -= 1
        return request


@pytest.fixture
async def server():
    slow, calls = Slow(), ServerCalls("test", max_active=2, max_calls=8)
    handler = grpc.unary_unary_rpc_method_handler(
        slow, request_deserializer=date_pb2.Date.FromString, response_serializer=date_pb2.Date.SerializeToString
    )
    srv = grpc.aio.server()
    registrar = calls.registrar(srv)
    registrar.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Slow", {"Call": handler})])
    registrar.add_registered_method_handlers(
        "grpc.test.Slow", {"Call": handler}
    )  # both ways of registering are wrapped
    port = srv.add_insecure_port("127.0.0.1:0")
    await srv.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel, slow, calls
    slow.gate.set()
    await srv.stop(None)


async def test_bytes_that_are_no_request_are_invalid_argument(server):
    channel, _, _ = server
    failure = await fails(channel.unary_unary("/test.Slow/Call")(b"\xff\xff\xff", timeout=5))
    assert (failure.code, failure.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST")
    assert "DecodeError" not in failure.message and "parsing" not in failure.message


@pytest.mark.parametrize(
    ("path", "metadata", "most"),
    [
        ("/test.Slow/Call", (), 2),  # a burst entering the mesh: two at a time, the others wait their turn
        ("/test.Slow/Call", ((MESH_CALL_HEADER, "1"),), 6),  # calls from other services were admitted upstream
        ("/grpc.test.Slow/Call", (), 6),  # grpc.* (health) answers even behind a queue
    ],
)
async def test_admission_queues_only_calls_entering_the_mesh(server, path, metadata, most):
    channel, slow, calls = server
    call = channel.unary_unary(
        path, request_serializer=date_pb2.Date.SerializeToString, response_deserializer=date_pb2.Date.FromString
    )
    dates = [date_pb2.Date(year=2030, day=n) for n in range(6)]
    burst = [asyncio.ensure_future(call(d, metadata=metadata, timeout=5)) for d in dates]
    if path.startswith("/test."):  # every call has arrived: running, or waiting its turn
        await eventually(lambda: calls.in_progress == 6, interval_s=0.01)
    await eventually(lambda: slow.running == most, interval_s=0.01)
    slow.gate.set()
    answers = await asyncio.gather(*burst)
    assert [a.day for a in answers] == list(range(6)) and slow.most == most


async def test_calls_beyond_the_limit_in_progress_are_resource_exhausted_but_probes_answer(server):
    channel, slow, calls = server
    call = channel.unary_unary(
        "/test.Slow/Call",
        request_serializer=date_pb2.Date.SerializeToString,
        response_deserializer=date_pb2.Date.FromString,
    )
    probe = channel.unary_unary(
        "/grpc.test.Slow/Call",
        request_serializer=date_pb2.Date.SerializeToString,
        response_deserializer=date_pb2.Date.FromString,
    )
    burst = [asyncio.ensure_future(call(date_pb2.Date(year=2030, day=1), timeout=5)) for _ in range(12)]
    await eventually(lambda: sum(t.done() for t in burst) == 4, interval_s=0.01)  # refused at once
    probes = [asyncio.ensure_future(probe(date_pb2.Date(year=2030, day=2), timeout=5)) for _ in range(4)]
    await eventually(lambda: slow.running == 2 + 4, interval_s=0.01)  # grpc.* (health) is never refused nor queued
    assert calls.in_progress == 8
    slow.gate.set()
    answers = await asyncio.gather(*burst, return_exceptions=True)
    refused = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(refused) == 4 and {a.code() for a in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert [p.day for p in await asyncio.gather(*probes)] == [2] * 4


async def test_unknown_methods_stay_unimplemented(server):
    channel, _, _ = server
    failure = await fails(channel.unary_unary("/test.Slow/Nope")(b"", timeout=5))
    assert failure.code == grpc.StatusCode.UNIMPLEMENTED
