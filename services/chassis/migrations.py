"""Alembic, async: the shared env.py body and a programmatic `upgrade` for each service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

SERVICES_DIR = Path(__file__).resolve().parents[1]


def run_env(target_metadata: sa.MetaData) -> None:
    """The whole of a service's migrations/env.py: online, async, versioned inside its schema."""
    schema = target_metadata.schema
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic.ini names no sqlalchemy.url")

    def migrate(connection: sa.Connection) -> None:
        context.configure(
            connection=connection, target_metadata=target_metadata, version_table_schema=schema, include_schemas=True
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            await conn.commit()
            await conn.run_sync(migrate)
            await conn.commit()
        await engine.dispose()

    asyncio.run(run())


def alembic_config(service_package: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service_package / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(service_package: str, database_url: str, revision: str = "head") -> None:
    """Blocking (Alembic runs its own event loop): call via asyncio.to_thread from async code."""
    command.upgrade(alembic_config(service_package, database_url), revision)


def create_outbox(schema: str) -> None:
    """The chassis outbox table (services/chassis/outbox.py), for a service's first migration."""
    from alembic import op

    from services.chassis.outbox import outbox_table

    outbox_table(sa.MetaData(schema=schema)).create(op.get_bind())


def create_sagas(schema: str) -> None:
    """The chassis saga table (services/chassis/saga.py), for an orchestrator's migration."""
    from alembic import op

    from services.chassis.saga_store import saga_table

    saga_table(sa.MetaData(schema=schema)).create(op.get_bind())


def create_inbox(schema: str) -> None:
    """The chassis inbox table (services/chassis/consumer.py), for a consuming service's migration."""
    from alembic import op

    from services.chassis.consumer import inbox_table

    inbox_table(sa.MetaData(schema=schema)).create(op.get_bind())
