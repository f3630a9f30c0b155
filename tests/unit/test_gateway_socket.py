"""The gateway's listening socket: connections accepted on it, as asyncio (uvicorn) wraps them,
have Nagle's algorithm off. With it on, every response on a kept-alive connection waited ~40 ms for
the client's delayed ACK (a REST partner's GET took 44 ms instead of under one)."""

import asyncio
import socket

import pytest

from services.gateway.main import _listening_socket


async def test_accepted_connections_have_nagle_off():
    sock = _listening_socket("127.0.0.1", 0)
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        assert await asyncio.wait_for(accepted, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_a_taken_port_is_an_error():
    taken = _listening_socket("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            _listening_socket("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
