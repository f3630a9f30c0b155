"""The contracts: buf lint clean, generated/ and third_party/ fresh, REST paths of the seed."""

import shutil
import subprocess
import sys
from pathlib import Path

from google.api import annotations_pb2
from novatrek.reservations.v1 import reservations_pb2

from services.chassis.events import all_event_specs, stream_subjects
from services.cli.gen import ROOT, generate


def test_generated_code_is_fresh():
    assert generate(check=True) == 0


def test_buf_lint_is_clean():
    buf = shutil.which("buf", path=str(Path(sys.executable).parent)) or shutil.which("buf")
    assert buf, "buf not installed (pip install buf-bin)"
    result = subprocess.run([buf, "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_reservation_rpc_carries_the_seed_rest_path():
    service = reservations_pb2.DESCRIPTOR.services_by_name["ReservationService"]
    paths = {}
    for method in service.methods:
        rule = method.GetOptions().Extensions[annotations_pb2.http]
        verb = rule.WhichOneof("pattern")
        paths[method.name] = (verb.upper(), getattr(rule, verb))
    assert paths == {
        "SearchReservations": ("GET", "/reservations"),
        "CreateReservation": ("POST", "/reservations"),
        "GetReservation": ("GET", "/reservations/{reservation_id}"),
        "UpdateReservation": ("PATCH", "/reservations/{reservation.reservation_id}"),
        "CancelReservation": ("DELETE", "/reservations/{reservation_id}"),
        "ListParticipants": ("GET", "/reservations/{reservation_id}/participants"),
        "AddParticipant": ("POST", "/reservations/{reservation_id}/participants"),
        "TransitionReservationStatus": ("PUT", "/reservations/{reservation_id}/status"),
    }


def test_event_subjects_and_streams_come_from_the_contracts():
    subjects = set(all_event_specs())
    assert {"novatrek.booking.reservation.created", "novatrek.booking.reservation.status-changed"} <= subjects
    assert stream_subjects()["NOVATREK_BOOKING"] == ["novatrek.booking.>"]
