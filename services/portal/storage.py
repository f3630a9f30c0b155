"""A context's data store as the code and the manifests say it: engine and backups from its
CloudNativePG objects in deploy/k8s/base/<service>/, pool settings from its settings class' defaults,
tables, columns, constraints and indexes from its SQLAlchemy metadata (services/<ctx>/db.py)."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import yaml

from services.chassis.config import ServiceSettings
from services.cli.registry import ServiceSpec
from services.portal.checks import table_conjuncts

K8S = Path("deploy") / "k8s" / "base"


@dataclass
class Store:
    engine: str
    schema: str
    tables: list[sa.Table]  # the context's data
    support: list[sa.Table]  # plumbing: outbox, inbox, sagas, keys, queues (info={"support": True})
    pool: str
    backups: list[str] = field(default_factory=list)


def store_of(root: Path, spec: ServiceSpec) -> Store:
    metadata: sa.MetaData = importlib.import_module(f"services.{spec.package}.db").metadata
    tables = sorted(metadata.tables.values(), key=lambda t: t.name)
    objects = _manifests(root / K8S / spec.name)
    cluster = next(o for o in objects if o["kind"] == "Cluster")
    return Store(
        engine=_engine(cluster),
        schema=metadata.schema or "public",
        tables=[t for t in tables if not t.info.get("support")],
        support=[t for t in tables if t.info.get("support")],
        pool=_pool(spec),
        backups=_backups(cluster, objects),
    )


def _manifests(directory: Path) -> list[dict]:
    docs = (d for f in sorted(directory.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()))
    return [d for d in docs if isinstance(d, dict) and "kind" in d]


def _engine(cluster: dict) -> str:
    image = cluster["spec"]["imageName"]  # ghcr.io/cloudnative-pg/postgresql:15
    name, _, version = image.rpartition("/")[2].partition(":")
    return f"{'PostgreSQL' if name == 'postgresql' else name} {version}".strip()


def _pool(spec: ServiceSpec) -> str:
    settings: type[ServiceSettings] = spec.settings_cls()
    fields = settings.model_fields
    low, high, idle = (fields[f].default for f in ("db_pool_min", "db_pool_max", "db_pool_idle_timeout_s"))
    return f"min {low} / max {high} / idle timeout {_duration(idle)}"


def _duration(seconds: float) -> str:
    return f"{seconds // 60:g}min" if seconds % 60 == 0 else f"{seconds:g}s"


def _backups(cluster: dict, objects: list[dict]) -> list[str]:
    found, backup = [], cluster["spec"].get("backup", {})
    store = backup.get("barmanObjectStore", {})
    if "wal" in store:
        found.append("Continuous WAL archiving")
    for o in objects:
        if o["kind"] == "ScheduledBackup" and o["spec"]["cluster"]["name"] == cluster["metadata"]["name"]:
            found.append(f"base backup {_cron(o['spec']['schedule'], seconds=True)}")
        if o["kind"] == "CronJob" and "pg_dump" in yaml.safe_dump(o):
            kept = re.search(r"-mtime \+(\d+)", yaml.safe_dump(o))
            keep = f", kept {kept.group(1)} days" if kept else ""
            found.append(f"pg_dump {_cron(o['spec']['schedule'], seconds=False)}{keep}")
    if retention := backup.get("retentionPolicy"):
        found.append(f"{retention.removesuffix('d')}-day PITR" if "wal" in store else f"{retention} retention")
    return found


def _cron(schedule: str, seconds: bool) -> str:
    """ "0 0 2 * * *" (CloudNativePG, with seconds) or "30 2 * * *" -> "daily at 02:00 UTC"."""
    parts = schedule.split()[1:] if seconds else schedule.split()
    minute, hour, rest = parts[0], parts[1], parts[2:]
    if rest == ["*", "*", "*"] and minute.isdigit() and hour.isdigit():
        return f"daily at {int(hour):02d}:{int(minute):02d} UTC"
    return f"on `{schedule}` (UTC)"


# --- the table reference ---------------------------------------------------------------------------


def column_rows(table: sa.Table) -> list[tuple[str, str, str]]:
    checks = table_conjuncts(table)
    return [(c.name, _type(c), ", ".join([*_constraints(table, c), *checks.get(c.name, [])])) for c in table.columns]


def table_checks(table: sa.Table) -> list[str]:
    """The CHECK conjuncts about several columns (shown once under the table, not on each column)."""
    return table_conjuncts(table).get(None, [])


def _type(c: sa.Column) -> str:
    try:
        return c.type.compile(dialect=_PG).replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
    except sa.exc.CompileError:
        return type(c.type).__name__.upper()


def _constraints(table: sa.Table, c: sa.Column) -> list[str]:
    out = ["PK"] if c.primary_key else ["NULL" if c.nullable else "NOT NULL"]
    if c.unique or any(isinstance(u, sa.UniqueConstraint) and list(u.columns) == [c] for u in table.constraints):
        out.append("UNIQUE")
    if c.server_default is not None:
        out.append(f"DEFAULT {_default(c.server_default)}")
    out += [f"FK -> {fk.column.table.name}" for fk in c.foreign_keys]
    return out


def _default(default) -> str:
    arg = default.arg
    if isinstance(arg, str):
        return f"'{arg}'" if not arg.isdigit() else arg
    return str(arg.compile(dialect=_PG)).upper()


def index_rows(table: sa.Table) -> list[str]:
    rows = []
    for ix in sorted(table.indexes, key=lambda i: i.name or ""):
        cols = ", ".join(str(e.name if isinstance(e, sa.Column) else e) for e in ix.expressions)
        where = ix.dialect_options["postgresql"].get("where")
        extra = [x for x in ("UNIQUE" if ix.unique else "", f"WHERE {where}" if where is not None else "") if x]
        rows.append(f"`{ix.name}` on {cols}" + (f" ({'; '.join(extra)})" if extra else ""))
    for u in table.constraints:
        if isinstance(u, sa.UniqueConstraint) and len(u.columns) > 1:
            rows.append(f"`{u.name}` on {', '.join(c.name for c in u.columns)} (UNIQUE constraint)")
    return rows


_PG = importlib.import_module("sqlalchemy.dialects.postgresql").dialect()
