"""`novatrek architecture review` on real changes: the repository's contracts, code and catalog data
copied into a temporary git repository, a change committed on a branch of its own, the review of
that branch against the base. The base tree is built once for the module."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from services.architecture import report
from services.architecture.review import review
from services.cli import main as cli
from services.cli.gen import ROOT

COPIED = ("protos", "services", "clients", "architecture", "docs", "third_party", "buf.yaml")


def git(repo: Path, *args: str) -> str:
    env = ["-c", "user.email=review@novatrek.test", "-c", "user.name=review"]
    return subprocess.run(["git", *env, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dest = tmp_path_factory.mktemp("architecture-review")
    tracked = git(ROOT, "ls-files", *COPIED).splitlines()
    for rel in tracked:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, dest / rel)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "base")
    return dest


def change(repo: Path, branch: str, edits: dict[str, tuple[str, str]]) -> dict:
    """Commits `edits` (file -> (old, new) text) on a branch from main and reviews it against main."""
    git(repo, "checkout", "-q", "-B", branch, "main")
    for rel, (old, new) in edits.items():
        path = repo / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-qam", branch)
    return report.to_json(*review(repo, "main", branch))


def ids(items: list[dict]) -> set[str]:
    return {i["id"] for i in items}


ORDERS = "protos/novatrek/orders/v1/orders.proto"
ORDER_EVENTS = "protos/novatrek/orders/v1/events.proto"


def test_field_added_to_order_created(repo):
    found = change(repo, "order-created-field", {ORDER_EVENTS: (
        "  google.protobuf.Timestamp occur_time = 7;\n}",
        "  google.protobuf.Timestamp occur_time = 7;\n"
        "  // Where the cart was checked out (web, app).\n  string channel = 8;\n}",
    )})  # fmt: skip
    assert ids(found["categories"]) == {"event-schemas"}
    # inventory consumes Order Created (it holds the order's stock): its team reviews the change too
    assert ids(found["resources"]) == {"order-created", "order-service", "inventory-service", "place-an-order"}
    assert ids(found["teams"]) == {"ordering-platform", "fulfilment-platform"}
    assert found["breaking"] == {"breaking": False, "findings": []} and found["guidance"] == []


def test_new_step_in_the_checkout_saga(repo):
    found = change(repo, "saga-step", {"services/checkout/checkout_saga.py": (
        '            Step("complete_checkout", complete, completes=True),',
        '            Step("screen_fraud", _noting(p, authorize_payment)),\n'
        '            Step("complete_checkout", complete, completes=True),',
    )})  # fmt: skip
    assert ids(found["categories"]) == {"checkout-orchestration"}
    assert ids(found["resources"]) == {"checkout-orchestrator", "checkout-saga"}
    assert ids(found["teams"]) == {"ordering-platform"}
    assert ids(found["guidance"]) == {"checkout-flow-pages", "checkout-command-schemas"}
    assert found["problems"] == [
        "flow Checkout Saga: the saga's steps in services/checkout/checkout_saga.py are "
        "['reserve_inventory', 'authorize_payment', 'create_order', 'screen_fraud', 'complete_checkout'], "
        "the flow's ['reserve_inventory', 'authorize_payment', 'create_order', 'complete_checkout']"
    ]


def test_new_customer_visible_order_status(repo):
    found = change(repo, "order-status", {ORDERS: (
        "  ORDER_STATUS_CANCELLED = 3;\n", "  ORDER_STATUS_CANCELLED = 3;\n  ORDER_STATUS_ON_HOLD = 4;\n",
    )})  # fmt: skip
    # every RPC answering an Order changed with it; Complete Order is the start of fulfilment
    assert ids(found["categories"]) == {
        "order-state", "customer-visible-status", "command-schemas", "query-schemas", "downstream-fulfilment",
    }  # fmt: skip
    assert {"order", "order-service", "create-order", "get-order", "checkout-orchestrator", "checkout-saga"} <= ids(
        found["resources"]
    )
    assert ids(found["teams"]) == {"ordering-platform"}
    assert not found["breaking"]["breaking"]


def test_payment_status_added_to_order(repo):
    found = change(repo, "order-payment-status", {ORDERS: (
        "  google.protobuf.Timestamp update_time = 10 [(google.api.field_behavior) = OUTPUT_ONLY];\n}",
        "  google.protobuf.Timestamp update_time = 10 [(google.api.field_behavior) = OUTPUT_ONLY];\n"
        "  string payment_status = 11;\n}",
    )})  # fmt: skip
    assert {"order-state", "payment-inventory-boundaries", "customer-visible-status"} <= ids(found["categories"])
    assert {"order", "payment-processing-system", "get-order"} <= ids(found["resources"])
    assert "inventory-system" not in ids(found["resources"])
    assert ids(found["teams"]) == {"ordering-platform", "payments-platform"}
    assert ids(found["guidance"]) == {"orders-snapshot-only"}


def test_renamed_rpc_is_breaking(repo):
    found = change(repo, "rename-rpc", {ORDERS: ("rpc GetOrder(GetOrderRequest)", "rpc FetchOrder(GetOrderRequest)")})
    assert found["breaking"]["breaking"]
    assert any('"GetOrder"' in line and "deleted" in line for line in found["breaking"]["findings"])
    assert {"get-order", "order-service"} <= ids(found["resources"])
    assert "query-schemas" in ids(found["categories"])
    assert ids(found["teams"]) == {"ordering-platform"}
    assert "**breaking** (buf)" in report.to_markdown(found)


def test_docs_only_change(repo):
    found = change(repo, "docs-only", {"docs/ordering.md": ("# ", "# (reworded) ")})
    assert found["docs_only"] and found["docs"] == ["docs/ordering.md"]
    assert found["categories"] == found["resources"] == found["teams"] == found["guidance"] == []
    assert "Docs only: nothing to review but the docs." in report.to_markdown(found)


def test_change_in_reservations_asks_no_ordering_team(repo):
    found = change(repo, "reservation-event", {"protos/novatrek/reservations/v1/events.proto": (
        "message ReservationStatusChanged {", "message ReservationStatusChanged {\n  string note = 99;",
    )})  # fmt: skip
    assert ids(found["categories"]) == {"event-schemas", "reservation-lifecycle"}
    assert {"reservation-status-changed", "reservation-service", "notification-service"} <= ids(found["resources"])
    # loyalty earns on a completed trip: its team is asked too
    assert ids(found["teams"]) == {"booking-platform", "notifications-platform", "loyalty-platform"}


def test_a_field_on_a_cross_business_transaction_asks_the_partner_squad(repo):
    found = change(repo, "network-event-field", {"protos/novatrek/network/v1/events.proto": (
        "  CrossBusinessTransaction transaction = 1;\n}",
        "  CrossBusinessTransaction transaction = 1;\n  // The redeeming member's name, for statements.\n"
        "  string redeemer_name = 2;\n}",
    )})  # fmt: skip
    assert ids(found["categories"]) == {"event-schemas", "partner-network"}
    # the flows with the event as a step: the redemption that writes it, the settlement that sums it
    assert {
        "cross-business-transaction-completed", "partner-network-service", "redeem-across-a-partner-network",
        "settle-network-revenue",
    } <= ids(found["resources"])  # fmt: skip
    assert ids(found["teams"]) == {"partner-squad"}


def test_a_change_in_the_settlement_arithmetic_is_the_partner_networks(repo):
    found = change(repo, "network-settlement", {"services/network/settlement.py": (
        "ZERO = Decimal(0)\n", "ZERO = Decimal(0)\nCENT = Decimal(\"0.01\")\n",
    )})  # fmt: skip
    assert ids(found["categories"]) == {"partner-network"}
    assert ids(found["teams"]) == {"partner-squad"}


def test_cli_output_is_byte_identical(repo, capsys):
    git(repo, "checkout", "-q", "main")
    argv = ["architecture", "review", "--repo", str(repo), "--base", "main", "--head", "order-created-field"]
    assert cli.main(argv) == 0
    first = capsys.readouterr().out
    assert cli.main(argv) == 0 and capsys.readouterr().out == first
    assert first.startswith("## Architecture review: `main`..`order-created-field`")
    assert cli.main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["teams"] == [
        {"id": "fulfilment-platform", "why": ["owns inventory-service"]},
        {"id": "ordering-platform", "why": ["owns order-created", "owns order-service", "owns place-an-order"]},
    ]
