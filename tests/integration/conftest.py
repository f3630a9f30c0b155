"""In-process services on port 0, called through generated stubs."""

from __future__ import annotations

import grpc
import pytest

from services.cli.databases import prepare
from services.guests.config import GuestSettings
from services.guests.main import build as build_guests
from novatrek.guests.v1 import guests_pb2_grpc

FAST = {"port": 0, "host": "127.0.0.1", "db_pool_min": 2, "db_pool_max": 10, "health_interval_s": 0.5}


async def start(build, settings):
    runtime = build(settings)
    port = await runtime.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return runtime, channel, port


@pytest.fixture(scope="session")
async def guests_service(make_database):
    url = await make_database("guests")
    await prepare("guest-profiles", url)
    runtime, channel, port = await start(build_guests, GuestSettings(database_url=url, **FAST))
    yield runtime, channel, port
    await channel.close()
    await runtime.stop()


@pytest.fixture
def guests_stub(guests_service):
    return guests_pb2_grpc.GuestServiceStub(guests_service[1])
