"""Create service databases and run their migrations (used by `novatrek up`, `migrate`, and tests)."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from services.chassis.migrations import upgrade
from services.cli.registry import REGISTRY

# service name -> (python package, default database name); a view of the one table in registry.py
SERVICES = {spec.name: (spec.package, spec.database) for spec in REGISTRY.values()}


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def database_of(url: str) -> str:
    return make_url(url).database or ""


def redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


async def prepare(service: str, database_url: str) -> None:
    """Runs the service's migrations to head (Alembic runs its own loop, so in a thread)."""
    await asyncio.to_thread(upgrade, SERVICES[service][0], database_url)


async def migrate(service: str, database_url: str, create: bool = False) -> None:
    """Migrations of one service to head; with `create`, its database is created first if missing
    (connecting to the `postgres` database of the same server)."""
    if create:
        await create_database(with_database(database_url, "postgres"), database_of(database_url))
    await prepare(service, database_url)
