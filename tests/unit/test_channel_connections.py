"""Typed clients open `connections` channels to their peer and take turns (a peer's SO_REUSEPORT
workers share connections, not calls)."""

from __future__ import annotations

from clients.channel import configure_connections
from clients.guests import GuestsClient


async def test_calls_take_turns_over_the_connections():
    client = GuestsClient("127.0.0.1:1", connections=3)
    try:
        assert len({id(c) for c in client.channels}) == 3
        used = [id(client.stub) for _ in range(6)]
        assert len(set(used)) == 3 and used[:3] == used[3:]
    finally:
        await client.close()


async def test_the_process_setting_is_the_default():
    configure_connections(2)
    try:
        client = GuestsClient("127.0.0.1:1")
        assert len(client.channels) == 2
        await client.close()
    finally:
        configure_connections(1)
    client = GuestsClient("127.0.0.1:1")
    assert len(client.channels) == 1
    await client.close()
