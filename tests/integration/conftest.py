"""In-process services on port 0, called through generated stubs."""

from __future__ import annotations

import grpc
import pytest

from novatrek.catalog.v1 import catalog_pb2_grpc
from services.catalog.config import CatalogSettings
from services.catalog.main import build as build_catalog
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


@pytest.fixture(scope="session")
async def catalog_service(make_database):
    url = await make_database("catalog")
    await prepare("trip-catalog", url)
    runtime, channel, port = await start(build_catalog, CatalogSettings(database_url=url, **FAST))
    yield runtime, channel, port
    await channel.close()
    await runtime.stop()


@pytest.fixture
def catalog_stub(catalog_service):
    return catalog_pb2_grpc.CatalogServiceStub(catalog_service[1])
