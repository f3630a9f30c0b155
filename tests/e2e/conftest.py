"""The environment of `novatrek up` in the e2e tests.

PostgreSQL / NATS: with NOVATREK_TEST_DATABASE_URL set, every service gets a fresh database of its
own on that server (created and dropped here); with NOVATREK_TEST_NATS_URL set, that broker. Without
them, `up` embeds its own, as on a bare machine.
"""

from __future__ import annotations

import os
import uuid

import pytest

from services.cli.databases import create_database, drop_database, with_database
from services.cli.registry import REGISTRY


@pytest.fixture
async def up_env():
    """The environment of `up`: none of the caller's NOVATREK_* settings, plus per-service databases
    and the broker when the test environment names external servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOVATREK_")}
    admin_url, created = os.environ.get("NOVATREK_TEST_DATABASE_URL"), []
    if admin_url:
        tag = uuid.uuid4().hex[:8]
        for spec in REGISTRY.values():
            database = f"nt_e2e_{tag}_{spec.package}"
            await create_database(admin_url, database)
            created.append(database)
            env[spec.env("database_url")] = with_database(admin_url, database)
    if nats_url := os.environ.get("NOVATREK_TEST_NATS_URL"):
        env["NOVATREK_NATS_URL"] = nats_url
    yield env
    for database in created:
        await drop_database(admin_url, database)
