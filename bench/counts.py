"""What one request costs, counted (DESIGN §8): inter-service RPCs, SQL statements, transactions,
commits and NATS publishes, from the services' `novatrek_work_total` counters. Only the work done
to answer a call (`origin="call"`) is counted, so the figures do not depend on the machine or on
what else the services are doing; publishes are the relay's, counted once the outboxes are empty."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

import asyncpg
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from services.chassis.metrics import CALL

Tally = dict[tuple[str, str, str], float]  # (service, origin, unit) -> count so far
Reader = Callable[[], Coroutine[Any, Any, Tally]]
UNITS = {"rpcs": "rpc", "statements": "statement", "transactions": "transaction", "commits": "commit"}

# Ceilings per request, checked by tests/integration/test_request_counts.py (issue 15's targets for
# the partner booking; the others as they stand, so that a new statement on a hot path is noticed).
BUDGETS = {
    "get_reservation": {"rpcs": 0, "statements": 1, "transactions": 1, "commits": 0, "publishes": 0},
    "create_reservation": {"rpcs": 2, "statements": 5, "transactions": 5, "commits": 3, "publishes": 1},
    "partner_create_booking": {"rpcs": 6, "statements": 20, "transactions": 15, "commits": 10, "publishes": 3},
    # a wallet booking (docs/bookings.md, "Cost per request"): bookings' own 7 statements, 4 transactions and
    # 4 commits, plus one statement each of businesses (resolve), trip-catalog (session, hold) and wallet
    # (debit), the hold and the debit committing
    "create_booking": {"rpcs": 4, "statements": 11, "transactions": 8, "commits": 6, "publishes": 2},
}


def tally(families: Iterable) -> Tally:
    return {
        (s.labels["service"], s.labels["origin"], s.labels["unit"]): s.value
        for family in families
        if family.name == "novatrek_work"
        for s in family.samples
        if s.name == "novatrek_work_total"
    }


async def from_registry() -> Tally:
    """The counters of the services running in this process (tests)."""
    return tally(REGISTRY.collect())


def from_endpoints(urls: list[str]) -> Reader:
    """The counters of services in other processes, from their /metrics."""

    def fetch(url: str) -> Tally:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return tally(text_string_to_metric_families(answer.read().decode()))

    async def read() -> Tally:
        merged: Tally = {}
        for part in await asyncio.gather(*(asyncio.to_thread(fetch, url) for url in urls)):
            for key, value in part.items():  # a service's workers (serve --processes) add up
                merged[key] = merged.get(key, 0) + value
        return merged

    return read


def per_request(before: Tally, after: Tally, requests: int) -> dict[str, float]:
    """Per request: the call-origin units, with the inbound call itself taken off the RPCs."""
    if not requests:
        return {}

    def spent(unit: str, origin: str | None = CALL) -> float:
        return sum(v - before.get(k, 0.0) for k, v in after.items() if k[2] == unit and origin in (None, k[1]))

    counts = {name: round(spent(unit) / requests, 2) for name, unit in UNITS.items()}
    counts["rpcs"] = round(counts["rpcs"] - 1, 2)
    counts["publishes"] = round(spent("publish", origin=None) / requests, 2)
    return counts


async def drained(dsns: list[str], timeout_s: float = 30.0) -> None:
    """Waits until every outbox of these databases is empty: what the requests wrote is published."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    for dsn in dsns:
        conn = await asyncpg.connect(dsn.replace("+asyncpg", ""))
        try:
            schemas = await conn.fetch("SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'")
            for (schema,) in schemas:
                while await conn.fetchval(f'SELECT count(*) FROM "{schema}".outbox'):
                    if loop.time() > deadline:
                        raise TimeoutError(f"outbox of {schema} not drained in {timeout_s} s")
                    await asyncio.sleep(0.02)
        finally:
            await conn.close()


async def count(
    call: Callable[[int], Awaitable[None]],
    requests: int,
    read: Reader,
    dsns: list[str],
) -> dict[str, float]:
    """Runs `requests` requests one after another (after one to warm up) and counts what they cost."""
    await call(0)
    await drained(dsns)
    before = await read()
    for seq in range(1, requests + 1):
        await call(seq)
    await drained(dsns)
    return per_request(before, await read(), requests)
