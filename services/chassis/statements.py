"""Building blocks of one-statement writes (DESIGN §8): data-modifying CTEs that write only when the
statement's first write (an `INSERT … ON CONFLICT DO NOTHING`, a revision-checked `UPDATE`) returned
a row, all with bind parameters so the statement is built once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

import sqlalchemy as sa
from sqlalchemy.sql.selectable import HasCTE

InsertT = TypeVar("InsertT", bound=sa.Insert)


@overload
def insert_after(gate: sa.CTE, table: sa.Table, names: list[str]) -> sa.Insert: ...
@overload
def insert_after(gate: sa.CTE, table: sa.Table, names: list[str], insert: Callable[[sa.Table], InsertT]) -> InsertT: ...
def insert_after(gate: sa.CTE, table: sa.Table, names: list[str], insert: Any = sa.insert) -> Any:
    """INSERT of one row, from parameters named `<table>_<column>`, that happens only if `gate`
    returned a row; `insert`: the dialect's (pg_insert, to add ON CONFLICT)."""
    columns = [table.c[name] for name in names]
    values = sa.select(*(sa.bindparam(f"{table.name}_{c.key}", type_=c.type) for c in columns)).select_from(gate)
    return insert(table).from_select(columns, values)


def params_of(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """`row` as the parameters `insert_after` names for `table`."""
    return {f"{table.name}_{name}": value for name, value in row.items()}


def gated(gate: sa.CTE, writes: Sequence[HasCTE]) -> sa.Select[Any]:
    """SELECT of the gate's rows, running `writes` (statements made from it) as CTEs of the same statement."""
    return sa.select(*gate.c).add_cte(*(w.cte(f"write_{i}") for i, w in enumerate(writes)))
