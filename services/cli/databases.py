"""Create service databases and run their migrations (used by `novatrek up`, `migrate`, and tests)."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from services.chassis.migrations import upgrade

# service name -> (python package, default database name)
SERVICES = {
    "guest-profiles": ("guests", "novatrek_guests"),
    "trip-catalog": ("catalog", "novatrek_catalog"),
    "reservations": ("reservations", "novatrek_reservations"),
}


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


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
