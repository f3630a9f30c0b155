"""`python -m bench --explain FILE`: `EXPLAIN (ANALYZE, BUFFERS)` of the hot reads, as the services
build them. The statements come from the services' own repositories (run against a connection that
only keeps what it is given), so a change there shows up here and in tests/integration's plan test."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect

from services.partners.repositories import BookingRepository
from services.reservations.repositories import ReservationRepository


class _Keeper:
    """Stands in for a connection: keeps the statement and parameters, answers no rows."""

    def __init__(self) -> None:
        self.statement: Any = None
        self.params: dict = {}

    async def execute(self, statement, params: dict | None = None) -> list:
        self.statement, self.params = statement, params or {}
        return _NoRows()


class _NoRows(list):
    def first(self) -> None:
        return None


@dataclass
class Query:
    name: str
    sql: str
    args: list[Any]


def _compiled(name: str, keeper: _Keeper) -> Query:
    """The SQL as the driver gets it: values written into the SQL when it runs (a page's LIMIT) are
    written in here too."""
    statement = keeper.statement.params(**keeper.params) if keeper.params else keeper.statement
    compiled = statement.compile(dialect=dialect(), compile_kwargs={"render_postcompile": True})
    return Query(name, str(compiled), [compiled.params[p] for p in compiled.positiontup])


async def reservation_queries(reservation_id: str, guest_id: str, trip_id: str) -> list[Query]:
    """Get by id (through the key row); newest-first pages: a guest's, the guest's page a year back,
    a trip's, a trip's within a month of trip dates."""
    keeper = _Keeper()
    repo = ReservationRepository(keeper)
    await repo.get(uuid.UUID(reservation_id))
    found = [_compiled("get_reservation", keeper)]
    guest, trip = {"guest_id": uuid.UUID(guest_id)}, {"trip_id": uuid.UUID(trip_id)}
    a_year_ago = [(datetime.now(UTC) - timedelta(days=365)).isoformat(), str(uuid.UUID(int=0))]
    month = {"date_from": date.today() - timedelta(days=180), "date_to": date.today() - timedelta(days=150)}
    for name, filters, position in (
        ("search_by_guest", guest, None),
        ("search_by_guest_page_a_year_back", guest, a_year_ago),
        ("search_by_trip", trip, None),
        ("search_by_trip_and_dates", {**trip, **month}, None),
    ):
        await repo.search(filters, position, 10)
        found.append(_compiled(name, keeper))
    return found


async def partner_queries(partner_id: str) -> list[Query]:
    keeper = _Keeper()
    await BookingRepository(keeper).page(uuid.UUID(partner_id), {}, None, 10)
    return [_compiled("list_partner_bookings", keeper)]


async def explain(dsn: str, queries: list[Query], fmt: str = "TEXT") -> dict[str, Any]:
    """Each query's `EXPLAIN (ANALYZE, BUFFERS)`: text lines, or the JSON plan with fmt="JSON"."""
    conn = await asyncpg.connect(dsn)
    try:
        found: dict[str, Any] = {}
        for q in queries:
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT {fmt}) {q.sql}", *q.args)
            found[q.name] = json.loads(rows[0][0])[0]["Plan"] if fmt == "JSON" else [r[0] for r in rows]
        return found
    finally:
        await conn.close()


def nodes(plan: dict) -> list[dict]:
    """Every node of a JSON plan, depth first."""
    return [plan, *(n for child in plan.get("Plans", []) for n in nodes(child))]


def as_markdown(plans: dict[str, list[str]], sql: dict[str, str]) -> str:
    parts = []
    for name, lines in plans.items():
        parts.append(f"### {name}\n\n```sql\n{sql[name]}\n```\n\n```\n" + "\n".join(lines) + "\n```\n")
    return "\n".join(parts)
