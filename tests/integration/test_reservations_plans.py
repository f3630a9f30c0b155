"""The hot reads' plans stay flat as the data grows (issue 15, item 4): with 20,000 reservations over
24 monthly partitions (bench/rows.py, then ANALYZE), `EXPLAIN (ANALYZE, BUFFERS)` of each read as the
repositories build it (bench/plans.py) touches one partition, or reads the partitions newest first
only as far as the page needs; the partner bookings list is one index range."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from bench import plans, rows
from services.cli.databases import prepare

RESERVATIONS, BOOKINGS, PAGE = 20_000, 5_000, 10
GUESTS = [str(uuid.uuid4()) for _ in range(40)]
TRIPS = [str(uuid.uuid4()) for _ in range(8)]


def _dsn(url: str) -> str:
    return url.replace("+asyncpg", "")


def _scans(plan: dict) -> list[dict]:
    return [n for n in plans.nodes(plan) if "Relation Name" in n]


def _touched(node: dict) -> bool:
    return node["Actual Loops"] > 0 and node["Shared Hit Blocks"] + node["Shared Read Blocks"] > 0


@pytest.fixture(scope="module")
async def reservation_plans(make_database):
    url = await make_database("plans_reservations")
    await prepare("reservations", url)
    sample = await rows.load_reservations(_dsn(url), RESERVATIONS, GUESTS, TRIPS)
    queries = await plans.reservation_queries(sample[len(sample) // 2], GUESTS[0], TRIPS[0])
    return await plans.explain(_dsn(url), queries, fmt="JSON")


async def test_get_by_id_reads_one_partition_through_the_key_row(reservation_plans):
    scans = _scans(reservation_plans["get_reservation"])
    touched = [s for s in scans if _touched(s)]
    assert [s["Relation Name"] for s in touched if s["Relation Name"] != "reservation_keys"] == [
        next(s["Relation Name"] for s in touched if s["Relation Name"].startswith("reservations_"))
    ]
    assert len({s["Relation Name"] for s in scans}) >= 25  # 24 months and the months ahead
    assert all(s["Node Type"] == "Index Scan" for s in touched)


@pytest.mark.parametrize("name", ["search_by_guest", "search_by_guest_page_a_year_back", "search_by_trip"])
async def test_a_newest_first_page_reads_only_the_newest_partitions_the_page_needs(reservation_plans, name):
    plan = reservation_plans[name]
    scans = [s for s in _scans(plan) if _touched(s)]
    assert "Sort" not in {n["Node Type"] for n in plans.nodes(plan)}, json.dumps(plan)[:2000]
    assert {s["Node Type"] for s in scans} == {"Index Scan"}
    assert all(s["Index Name"].endswith("_created_at_reservation_id_idx") for s in scans)
    # an ordered Append (no default partition: migration 0005) reads the partitions newest first and
    # stops with the page: the months ahead (empty), then the one or two months that hold the page
    assert "Merge Append" not in {n["Node Type"] for n in plans.nodes(plan)}
    assert len(scans) <= 5  # (a page a year back: one; a page position prunes the newer months)
    assert sum(s["Actual Rows"] for s in scans) == PAGE + 1


async def test_a_page_filtered_by_trip_dates_reads_by_index(reservation_plans):
    scans = [s for s in _scans(reservation_plans["search_by_trip_and_dates"]) if _touched(s)]
    assert scans and all("Index" in s["Node Type"] for s in scans)


async def test_the_partner_bookings_list_is_one_index_range(make_database):
    url = await make_database("plans_partners")
    await prepare("partner-integrations", url)
    partner_id = str(uuid.uuid4())
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO partners.partners (partner_id, name, contact_email, webhook_secret, commission_plan,"
            " api_key_id, api_key_hash, created_at) VALUES ($1, 'P', 'p@example.com', 's', '{}', 'k1', 'h', $2)",
            uuid.UUID(partner_id),
            datetime.now(UTC),
        )
    finally:
        await conn.close()
    await rows.load_partner_bookings(_dsn(url), BOOKINGS, partner_id, GUESTS, TRIPS)
    plan = (await plans.explain(_dsn(url), await plans.partner_queries(partner_id), fmt="JSON"))[
        "list_partner_bookings"
    ]
    (scan,) = _scans(plan)
    assert (scan["Node Type"], scan["Index Name"], scan["Scan Direction"]) == (
        "Index Scan",
        "idx_pb_partner_created",
        "Backward",
    )
    assert scan["Actual Rows"] == PAGE + 1
    assert "Sort" not in {n["Node Type"] for n in plans.nodes(plan)}
