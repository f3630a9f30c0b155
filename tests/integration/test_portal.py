"""The architecture portal: built once (`novatrek portal build DIR --html`, which runs `mkdocs build
--strict`), then its reservations page holds what seed 001 shows and its Partners domain page what
seed 000 shows — as the code says it (partner-integrations no longer asks trip-catalog)."""

import json
import re
from pathlib import Path

import pytest

from services.cli.main import main

SEED_INDEXES = [
    "idx_res_guest_date",
    "idx_res_trip_date",
    "idx_res_confirmation",
    "idx_res_status",
    "idx_part_reservation",
    "idx_part_guest",
    "idx_hist_reservation",
]
SEED_ENDPOINTS = [
    "GET /reservations",
    "POST /reservations",
    "GET /reservations/{reservation_id}",
    "PATCH /reservations/{reservation_id}",
    "DELETE /reservations/{reservation_id}",
    "GET /reservations/{reservation_id}/participants",
    "POST /reservations/{reservation_id}/participants",
    "PUT /reservations/{reservation_id}/status",
]


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("portal")
    assert main(["portal", "build", str(dest), "--html"]) == 0  # mkdocs build --strict
    return dest


def section(page: str, heading: str) -> str:
    """The text under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = page.index(f"\n{heading}\n")
    ends = [m.start() for m in re.finditer(rf"\n#{{1,{len(level)}}} ", page) if m.start() > start]
    return page[start : ends[0] if ends else len(page)]


def rows(text: str) -> list[list[str]]:
    """A Markdown table's body rows (its header and separator left out)."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines[2:]]


def test_the_site_builds_strict_with_swagger_ui_and_mermaid(portal):
    site = portal / "site"
    assert (site / "services" / "reservations" / "index.html").exists()
    assert (site / "domains" / "partners" / "index.html").exists()
    assert (site / "assets" / "swagger-ui" / "swagger-ui-bundle.js").stat().st_size > 100_000  # no CDN
    swagger = (site / "api" / "reservations.html").read_text()
    assert "../assets/swagger-ui/swagger-ui-bundle.js" in swagger and "http" not in swagger.split("<script")[1]
    assert 'class="mermaid"' in (site / "services" / "reservations" / "index.html").read_text()


def test_reservations_page_shows_what_seed_001_shows(portal):
    page = (portal / "docs" / "services" / "reservations.md").read_text()
    overview = dict(r[:2] for r in rows(section(page, "### Overview")))
    assert overview["Tables"] == "participants, reservations, status_history"
    assert overview["Connection Pool"] == "min 10 / max 40 / idle timeout 10min"
    assert overview["Backup Strategy"] == "Continuous WAL archiving, base backup daily at 02:00 UTC, 30-day PITR"
    assert overview["Engine"] == "PostgreSQL 15" and overview["Schema"] == "reservations"
    reference = section(page, "### Table Reference")
    columns = {r[0]: r for r in rows(section(reference, "#### reservations"))}
    assert columns["status"][2].startswith("NOT NULL, DEFAULT 'confirmed', CHECK (status IN ('pending', ")
    assert columns["party_size"][2] == "NOT NULL, CHECK (party_size > 0)"
    participants = {r[0]: r[2] for r in rows(section(reference, "#### participants"))}
    assert participants["reservation_id"] == "NOT NULL, FK -> reservation_keys"
    assert [i for i in SEED_INDEXES if f"`{i}`" in page] == SEED_INDEXES

    endpoints = section(page, "## Endpoints (8 total)")
    headings = re.findall(r"^### (\S+ \S+) -- ", endpoints, re.M)
    assert headings == SEED_ENDPOINTS
    assert endpoints.count("```mermaid\nsequenceDiagram") == 8
    spec = json.loads((portal / "docs" / "api" / "reservations.openapi.json").read_text())
    operations = {op["operationId"] for methods in spec["paths"].values() for op in methods.values()}
    linked = re.findall(r"\(\.\./api/reservations\.html#/ReservationService/(\w+)\)", endpoints)
    assert len(linked) == 8 and set(linked) <= operations

    published = {r[0]: r for r in rows(section(page, "## Events Published"))}
    assert published["Reservation Created"][1:3] == ["`novatrek.booking.reservation.created`", "POST /reservations"]
    assert published["Reservation Status Changed"][1] == "`novatrek.booking.reservation.status-changed`"
    assert "PUT /reservations/{reservation_id}/status" in published["Reservation Status Changed"][2]
    assert "svc-notifications" in published["Reservation Status Changed"][3]
    assert published["Reservation Created"][3] == "none in the mesh"  # the seed's consumers are not in the mesh
    consumed = rows(section(page, "## Events Consumed"))
    assert consumed == [["Payment Processed", "[svc-payments](payments.md)", "`novatrek.support.payment.processed`"]]
    create = section(endpoints, "### POST /reservations -- Create Reservation")
    assert "S->>P_guests: ensure_eligible" in create and "novatrek.booking.reservation.created (outbox)" in create


def test_partners_domain_page_shows_what_seed_000_shows_as_the_code_says_it(portal):
    page = (portal / "docs" / "domains" / "partners.md").read_text()
    services = rows(section(page, "## Services"))
    assert [r[1:] for r in services] == [["PostgreSQL 15", "partners", "4", "7"]]
    stores = section(page, "## Data Stores")
    assert "**Tables:** commission_records, partner_bookings, partners, reconciliation_log" in stores
    assert "pg_dump daily at 02:30 UTC, kept 30 days" in stores
    outbound = [
        (re.sub(r"\[(.*?)\]\(.*?\)", r"\1", r[1]), r[3], r[4])
        for r in rows(section(page, "### Outbound (this domain calls)"))
    ]
    for seed_call in [
        ("svc-guest-profiles", "Validate Guest (query)", "No"),
        ("svc-reservations", "Create Reservation (command)", "No"),
        ("svc-reservations", "Transition Reservation Status (command)", "No"),  # confirm reservation
        ("svc-payments", "Process Commission (command)", "No"),
        ("svc-notifications", "Partner Booking Confirmed (event)", "Yes"),
    ]:
        assert seed_call in outbound
    assert [c for c in outbound if c[2] == "Yes"] == [("svc-notifications", "Partner Booking Confirmed (event)", "Yes")]
    assert not [c for c in outbound if c[0] == "svc-trip-catalog"]  # the seed's availability check is gone
    capabilities = [r[0] for r in rows(section(page, "## Business Capabilities"))]
    assert capabilities == ["CAP-6.1", "CAP-6.2"]
