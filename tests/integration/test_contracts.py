"""The contracts: buf lint clean, compatible with the released image, generated/ and third_party/
fresh, REST paths of the seed."""

import shutil
import subprocess

from google.api import annotations_pb2
from novatrek.reservations.v1 import reservations_pb2

from services.chassis.events import all_event_specs, stream_subjects
from services.cli import contracts
from services.cli import main as cli
from services.cli.gen import ROOT, generate


def test_generated_code_is_fresh():
    assert generate(check=True) == 0


def test_buf_lint_is_clean():
    result = subprocess.run([contracts.buf(), "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_are_compatible_with_the_released_contracts(capsys):
    assert cli.main(["contracts", "check"]) == 0, capsys.readouterr().err


def _copy_of_the_contracts(tmp_path):
    for name in ("protos", "third_party"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copyfile(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    return tmp_path


def test_an_incompatible_change_fails_naming_what_broke(tmp_path):
    guests = _copy_of_the_contracts(tmp_path) / "protos/novatrek/guests/v1/guests.proto"
    source = guests.read_text()
    assert "  string phone = 5;\n" in source and "  GuestStatus status = 7;" in source
    guests.write_text(
        source.replace("  string phone = 5;\n", "").replace("GuestStatus status = 7;", "int64 status = 7;")
    )

    result = contracts.breaking(tmp_path)

    assert result.returncode != 0
    assert 'field "5" with name "phone" on message "Guest" was deleted' in result.stdout
    assert 'Field "7" with name "status" on message "Guest" changed type from "enum" to "int64"' in result.stdout


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


def test_releasing_accepts_the_change(tmp_path):
    guests = _copy_of_the_contracts(tmp_path) / "protos/novatrek/guests/v1/guests.proto"
    guests.write_text(guests.read_text().replace("  string phone = 5;\n", ""))
    assert contracts.breaking(tmp_path).returncode != 0

    assert contracts.release(tmp_path).returncode == 0

    assert contracts.breaking(tmp_path).returncode == 0
