"""CHECK constraints in the table reference. Each top-level conjunct of a CHECK is shown on the one column it
is about (seed 001's `CHECK (party_size > 0)` on party_size); a conjunct about several columns (or none)
once under the table, instead of the whole CHECK repeated on every column it names."""

from __future__ import annotations

import re

import sqlalchemy as sa

# SQL tokens: quoted literals and identifiers whole (their text is no column, their ANDs no conjunction)
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\w+|\S")
_OPEN, _CLOSE = {"(", "CASE"}, {")", "END"}


def conjuncts(sql: str) -> list[str]:
    """`a > 0 AND (b < 1 OR c) AND d BETWEEN 1 AND 2` -> ["a > 0", "(b < 1 OR c)", "d BETWEEN 1 AND 2"]:
    split on the ANDs outside parentheses, CASE … END and BETWEEN … AND."""
    parts, depth, start, between = [], 0, 0, False
    for m in _TOKEN.finditer(sql):
        word = m.group().upper()
        if word in _OPEN:
            depth += 1
        elif word in _CLOSE:
            depth -= 1
        elif depth == 0 and word == "BETWEEN":
            between = True
        elif depth == 0 and word == "AND":
            if between:
                between = False
                continue
            parts.append(sql[start : m.start()].strip())
            start = m.end()
    parts.append(sql[start:].strip())
    return [p for p in parts if p]


def _named(sql: str, table: sa.Table) -> frozenset[str]:
    words = {m.group() for m in _TOKEN.finditer(sql) if not m.group().startswith(("'", '"'))}
    words |= {m.group()[1:-1] for m in _TOKEN.finditer(sql) if m.group().startswith('"')}
    return frozenset(c.name for c in table.columns if c.name in words)


def table_conjuncts(table: sa.Table) -> dict[str | None, list[str]]:
    """The CHECK conjuncts by the column each is about; under None those about several columns or none.
    A CHECK declared on a column that names no column is that column's."""
    checks: dict[int, tuple[sa.CheckConstraint, str | None]] = {}
    for c in table.columns:
        for k in c.constraints:
            if isinstance(k, sa.CheckConstraint):
                checks.setdefault(id(k), (k, c.name))
    for k in table.constraints:
        if isinstance(k, sa.CheckConstraint):
            checks.setdefault(id(k), (k, None))
    found: dict[str | None, list[str]] = {}
    for check, declared_on in checks.values():
        for part in conjuncts(str(check.sqltext)):
            named = _named(part, table) or (frozenset({declared_on}) if declared_on else frozenset())
            about = next(iter(named)) if len(named) == 1 else None
            found.setdefault(about, []).append(f"CHECK ({part})")
    return found
