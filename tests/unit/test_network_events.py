"""partner-network's events: CloudEvents types exactly as seed 002 names them (not `<subject>.v1`),
subjects `novatrek.network.<type>` on one stream, and the outbox row carrying the type as written."""

from __future__ import annotations

from datetime import UTC, datetime

from novatrek.network.v1 import events_pb2

from services.chassis.events import all_event_specs, spec_of, stream_subjects
from services.chassis.outbox import outbox_row

TYPES = {
    events_pb2.NetworkCreated: "network.created",
    events_pb2.PartnerJoined: "partner.joined",
    events_pb2.PartnerLeft: "partner.left",
    events_pb2.CrossBusinessTransactionCompleted: "cross_business.transaction.completed",
    events_pb2.RevenueSettlementProcessed: "revenue.settlement.processed",
}


def test_types_and_subjects_are_the_seeds():
    for cls, ce_type in TYPES.items():
        spec = spec_of(cls)
        assert (spec.ce_type, spec.subject, spec.domain) == (ce_type, f"novatrek.network.{ce_type}", "network")
        assert all_event_specs()[spec.subject][1] is cls
    assert stream_subjects()["NOVATREK_NETWORK"] == ["novatrek.network.>"]


def test_the_outbox_row_carries_the_type_as_the_contract_writes_it():
    row = outbox_row(events_pb2.PartnerLeft(network_id="n"), "//novatrek.io/partner-network", datetime.now(UTC))
    assert row["subject"] == "novatrek.network.partner.left"
    assert row["headers"]["ce-type"] == "partner.left" and row["headers"]["Nats-Msg-Id"] == row["headers"]["ce-id"]
