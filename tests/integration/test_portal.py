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


NEW_CONTEXTS = {  # the second ring and the activities contexts: context -> its domain's page
    "businesses": "businesses",
    "passes": "activities",
    "wallet": "payments",
    "bookings": "activities",
    "loyalty": "loyalty",
    "partner-network": "partner-network",
}


def test_every_context_has_its_pages_and_its_domain_its_team(portal):
    from services.cli.registry import REGISTRY

    for name in sorted(REGISTRY):
        assert (portal / "site" / "services" / name / "index.html").exists(), name
        assert (portal / "docs" / "api" / f"{name}.openapi.json").exists(), name
    for name, domain in NEW_CONTEXTS.items():
        page = (portal / "docs" / "domains" / f"{domain}.md").read_text()
        assert f"[svc-{name}](../services/{name}.md)" in section(page, "## Services"), (name, domain)
        assert "**Team:** —" not in page, domain  # a domain of two words ("Partner Network") finds its entry
    sessions = (portal / "docs" / "services" / "trip-catalog.md").read_text()
    assert "#### sessions" in sessions and "-- Hold Session Seats" in sessions


def test_a_saga_components_calls_and_events_are_its_contexts(portal):
    """The Booking Orchestrator (bookings' saga, a catalog component) calls other domains and publishes
    what loyalty consumes: the Activities page and bookings' page say so, and CreateBooking's diagram
    follows the servicer's own helper into the handler."""
    activities = (portal / "docs" / "domains" / "activities.md").read_text()
    outbound = [r[0::3] for r in rows(section(activities, "### Outbound (this domain calls)"))]
    assert ["Booking Orchestrator", "Hold Session Seats (command)"] in outbound
    assert ["Booking Orchestrator", "Booking Paid (event)"] in outbound
    bookings = (portal / "docs" / "services" / "bookings.md").read_text()
    published = {r[0]: r for r in rows(section(bookings, "## Events Published"))}
    assert published["Booking Paid"][3] == "[svc-loyalty](loyalty.md)"
    assert published["Booking Confirmed"][2] == "Booking Orchestrator"  # written by the saga's step
    create = section(bookings, "### POST /api/client/bookings -- Create Booking")
    assert "S->>P_sagas: run" in create and "S->>P_catalog: session" in create


def test_a_check_is_shown_on_the_column_it_is_about(portal):
    page = (portal / "docs" / "services" / "loyalty.md").read_text()
    lots = section(section(page, "### Table Reference"), "#### lots")
    columns = {r[0]: r[2] for r in rows(lots)}
    assert columns["points"] == "NOT NULL, CHECK (points > 0)"
    assert columns["remaining"] == "NOT NULL, CHECK (remaining >= 0)"
    assert "Checks across columns:\n\n- CHECK (remaining <= points)" in lots
