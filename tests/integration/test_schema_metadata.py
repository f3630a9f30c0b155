"""Each context's SQLAlchemy metadata says what its migrations create: tables, columns, nullability,
server defaults, keys, unique constraints and indexes (Alembic's comparison), and for the contexts
whose metadata declares them so far, CHECK constraints. The portal's table reference is read from
the metadata, so this is what keeps its pages true."""

import importlib

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.cli.registry import REGISTRY
from tests.integration.conftest import fresh_database

CHECKS = """
SELECT t.relname, count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'c' AND n.nspname = :schema AND NOT t.relispartition GROUP BY t.relname
"""
PARTITIONS = "SELECT relname FROM pg_class WHERE relispartition"
# Contexts whose metadata declares their CHECK constraints (the others' are in their migrations only).
CHECKS_DECLARED = {
    "guest-profiles", "trip-catalog", "reservations", "businesses", "passes", "loyalty", "partner-network",
}  # fmt: skip


def _differences(conn: sa.Connection, metadata: sa.MetaData, partitions: set[str]) -> list:
    def include(name, type_, parent) -> bool:
        if type_ == "schema":
            return name == metadata.schema
        return not (type_ == "table" and (name in partitions or name == "alembic_version"))

    opts = {"include_schemas": True, "compare_server_default": True, "include_name": include}
    return compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)


@pytest.mark.parametrize("service", sorted(REGISTRY))
async def test_metadata_matches_the_migrated_database(make_database, service):
    spec = REGISTRY[service]
    metadata = importlib.import_module(f"services.{spec.package}.db").metadata
    engine = create_async_engine(await fresh_database(make_database, service, f"schema_{spec.package}"))
    try:
        async with engine.connect() as conn:
            partitions = set((await conn.execute(sa.text(PARTITIONS))).scalars())
            assert await conn.run_sync(_differences, metadata, partitions) == []
            checks = dict((await conn.execute(sa.text(CHECKS), {"schema": metadata.schema})).all())
    finally:
        await engine.dispose()
    declared = {t.name: n for t in metadata.tables.values() if (n := len(_checks(t)))}
    assert declared == (checks if service in CHECKS_DECLARED else {})


def _checks(table: sa.Table) -> list[sa.CheckConstraint]:
    on_columns = [c for col in table.columns for c in col.constraints]
    return [c for c in [*table.constraints, *on_columns] if isinstance(c, sa.CheckConstraint)]
