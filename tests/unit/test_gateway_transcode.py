"""JSON <-> protobuf and query parameters, on a contract the gateway has never seen (built here) and
on the real ones: a newly annotated RPC needs no gateway code."""

import json
from datetime import UTC, datetime

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, field_mask_pb2, timestamp_pb2  # noqa: F401 (dependencies)
from google.type import date_pb2  # noqa: F401
from novatrek.reservations.v1 import reservations_pb2 as res

from services.gateway.bindings import bindings_for, bindings_of
from services.gateway.config import RESERVATIONS
from services.gateway.errors import GatewayError, status_json
from services.gateway.routes import Router
from services.gateway.transcode import from_http, to_json

F = descriptor_pb2.FieldDescriptorProto


def _field(message, name: str, number: int, kind: int, repeated: bool = False, type_name: str = "") -> None:
    camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
    field = message.field.add(
        name=name, number=number, type=kind, json_name=camel, label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
    )
    if type_name:
        field.type_name = type_name


def _rpc(service, name: str, request: str, rule: http_pb2.HttpRule) -> None:
    method = service.method.add(
        name=name, input_type=f".novatrek.gatewaytest.v1.{request}", output_type=".novatrek.gatewaytest.v1.Probe"
    )
    method.options.Extensions[annotations_pb2.http].CopyFrom(rule)


def _probe_service():
    fd = descriptor_pb2.FileDescriptorProto(
        name="novatrek/gatewaytest/v1/probe.proto",
        package="novatrek.gatewaytest.v1",
        syntax="proto3",
        dependency=[
            "google/api/annotations.proto",
            "google/protobuf/timestamp.proto",
            "google/protobuf/field_mask.proto",
            "google/type/date.proto",
        ],
    )
    color = fd.enum_type.add(name="Color")
    color.value.add(name="COLOR_UNSPECIFIED", number=0)
    color.value.add(name="COLOR_RED", number=1)
    inner = fd.message_type.add(name="Inner")
    _field(inner, "year", 1, F.TYPE_INT32)
    _field(inner, "tags", 2, F.TYPE_STRING, repeated=True)
    _field(inner, "child", 3, F.TYPE_MESSAGE, type_name=".novatrek.gatewaytest.v1.Inner")  # recursive
    probe = fd.message_type.add(name="Probe")
    for number, (name, kind, repeated, type_name) in enumerate(
        [
            ("probe_id", F.TYPE_STRING, False, ""),
            ("labels", F.TYPE_STRING, True, ""),
            ("sizes", F.TYPE_INT32, True, ""),
            ("inner", F.TYPE_MESSAGE, False, ".novatrek.gatewaytest.v1.Inner"),
            ("active", F.TYPE_BOOL, False, ""),
            ("big", F.TYPE_INT64, False, ""),
            ("color", F.TYPE_ENUM, False, ".novatrek.gatewaytest.v1.Color"),
            ("at", F.TYPE_MESSAGE, False, ".google.protobuf.Timestamp"),
            ("day", F.TYPE_MESSAGE, False, ".google.type.Date"),
        ],
        start=1,
    ):
        _field(probe, name, number, kind, repeated, type_name)
    update = fd.message_type.add(name="UpdateProbeRequest")
    _field(update, "probe", 1, F.TYPE_MESSAGE, type_name=".novatrek.gatewaytest.v1.Probe")
    _field(update, "update_mask", 2, F.TYPE_MESSAGE, type_name=".google.protobuf.FieldMask")
    service = fd.service.add(name="ProbeService")
    _rpc(
        service,
        "GetProbe",
        "Probe",
        http_pb2.HttpRule(
            get="/v1/probes/{probe_id}", additional_bindings=[http_pb2.HttpRule(get="/v1/{probe_id=shelves/*}/probe")]
        ),
    )
    _rpc(service, "CreateProbe", "Probe", http_pb2.HttpRule(post="/v1/probes", body="*"))
    _rpc(
        service,
        "UpdateProbe",
        "UpdateProbeRequest",
        http_pb2.HttpRule(patch="/v1/probes/{probe.probe_id}", body="probe"),
    )
    pool = descriptor_pool.Default()
    pool.AddSerializedFile(fd.SerializeToString())
    return pool.FindServiceByName("novatrek.gatewaytest.v1.ProbeService")


ROUTER = Router(bindings_of(_probe_service()))


def transcode(method: str, path: str, query=(), body: bytes = b""):
    binding, values = ROUTER.resolve(method, path)
    return from_http(binding, values, list(query), body)


def violations(call) -> dict[str, str]:
    with pytest.raises(GatewayError) as caught:
        call()
    body = status_json(caught.value.reply.status)
    assert body["code"] == 3 and caught.value.reply.http_status == 400
    found = {}
    for detail in body["details"]:
        if detail["@type"].endswith("BadRequest"):
            found = {v["field"]: v["description"] for v in detail["fieldViolations"]}
    return found


AT = int(datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
FULL = {
    "probeId": "p-1",
    "labels": ["a", "b"],
    "sizes": [1, 2],
    "inner": {"year": 2027, "tags": ["x"]},
    "active": True,
    "big": "12345678901234",
    "color": "COLOR_RED",
    "at": "2027-01-02T03:04:05Z",
    "day": {"year": 2027, "month": 1, "day": 2},
}


def test_body_star_reads_the_canonical_json_mapping_with_either_name():
    probe = transcode("POST", "/v1/probes", body=json.dumps(FULL).encode())
    assert (probe.probe_id, list(probe.labels), list(probe.sizes), probe.inner.year, list(probe.inner.tags)) == (
        "p-1",
        ["a", "b"],
        [1, 2],
        2027,
        ["x"],
    )
    assert (probe.active, probe.big, probe.color, probe.at.seconds, probe.day.day) == (True, 12345678901234, 1, AT, 2)
    snake = transcode(
        "POST", "/v1/probes", body=json.dumps({"probe_id": "p-2", "inner": {"tags": []}, "big": 7, "color": 1}).encode()
    )
    assert (snake.probe_id, snake.HasField("inner"), snake.big, snake.color) == ("p-2", True, 7, 1)
    assert transcode("POST", "/v1/probes", body=b"") == transcode("POST", "/v1/probes", body=b'{"probeId": null}')


def test_responses_use_lower_camel_case_names_strings_for_int64_and_enum_names():
    probe = transcode("POST", "/v1/probes", body=json.dumps(FULL).encode())
    binding, _ = ROUTER.resolve("POST", "/v1/probes")
    assert json.loads(to_json(binding, probe)) == FULL
    empty = json.loads(to_json(binding, type(probe)()))
    assert empty == {
        "probeId": "",
        "labels": [],
        "sizes": [],
        "active": False,
        "big": "0",
        "color": "COLOR_UNSPECIFIED",
    }


def test_unknown_fields_and_wrong_types_are_all_reported_at_their_paths():
    body = {
        "probeId": 5,
        "colour": "red",
        "inner": {"year": "soon", "month": 1},
        "labels": "a",
        "active": "yes",
        "day": [],
        "big": 1.5,
    }
    found = violations(lambda: transcode("POST", "/v1/probes", body=json.dumps(body).encode()))
    assert set(found) == {"probeId", "colour", "inner.year", "inner.month", "labels", "active", "day", "big"}
    assert found["colour"] == found["inner.month"] == "unknown field"
    assert found["day"] == "must be a JSON object"
    assert set(violations(lambda: transcode("POST", "/v1/probes", body=b'{"probeId": "a", "probe_id": "b"}'))) == {
        "probe_id"
    }
    assert violations(lambda: transcode("POST", "/v1/probes", body=b"[1]")) == {"body": "must be a JSON object"}


def test_recursive_messages_stop_at_a_depth_limit():
    deep: dict = {"year": 1}
    for _ in range(40):
        deep = {"child": deep}
    found = violations(lambda: transcode("POST", "/v1/probes", body=json.dumps({"inner": deep}).encode()))
    assert list(found.values()) == ["nested more than 32 levels deep"]
    assert (
        transcode("POST", "/v1/probes", body=b'{"inner": {"child": {"child": {"year": 3}}}}').inner.child.child.year
        == 3
    )


def test_malformed_json_is_its_own_reason():
    with pytest.raises(GatewayError) as caught:
        transcode("POST", "/v1/probes", body=b'{"probeId": ')
    info = status_json(caught.value.reply.status)["details"][0]
    assert info["reason"] == "MALFORMED_JSON"


def test_query_parameters_fill_the_other_fields_including_repeated_and_nested():
    query = [
        ("labels", "a"),
        ("labels", "b"),
        ("sizes", "3"),
        ("inner.year", "2027"),
        ("inner.tags", "x"),
        ("inner.tags", "y"),
        ("active", "true"),
        ("big", "-9"),
        ("color", "COLOR_RED"),
        ("at", "2027-01-02T03:04:05Z"),
        ("day.year", "2027"),
        ("dayMonth", "1"),
    ]
    found = violations(lambda: transcode("GET", "/v1/probes/p-1", query))
    assert found == {"dayMonth": "unknown query parameter"}
    probe = transcode("GET", "/v1/probes/p-1", [*query[:-1], ("day.month", "1")])
    assert (probe.probe_id, list(probe.labels), list(probe.sizes), probe.inner.year, list(probe.inner.tags)) == (
        "p-1",
        ["a", "b"],
        [3],
        2027,
        ["x", "y"],
    )
    assert (probe.active, probe.big, probe.color, probe.at.seconds, probe.day.year, probe.day.month) == (
        True,
        -9,
        1,
        AT,
        2027,
        1,
    )
    assert transcode("GET", "/v1/shelves/s1/probe").probe_id == "shelves/s1"


def test_bad_query_parameters_are_refused():
    query = [
        ("active", "maybe"),
        ("big", "x"),
        ("inner", "{}"),
        ("probe_id", "other"),
        ("color", "COLOR_BLUE"),
        ("sizes", "1.5"),
        ("day.year", "1"),
        ("day.year", "2"),
    ]
    found = violations(lambda: transcode("GET", "/v1/probes/p-1", query))
    assert set(found) == {"active", "big", "inner", "probe_id", "color", "sizes", "day.year"}
    assert found["inner"] == "cannot be set from a query parameter"
    assert found["probe_id"] == "is set by the path or the body, not the query"
    assert found["day.year"] == "must be given once"
    assert set(violations(lambda: transcode("POST", "/v1/probes", [("labels", "a")], b"{}"))) == {"labels"}


def test_path_variables_win_over_the_body_and_patch_derives_the_update_mask():
    body = json.dumps({"probeId": "someone-else", "labels": ["a"], "inner": {"year": 1}}).encode()
    update = transcode("PATCH", "/v1/probes/p-7", body=body)
    assert update.probe.probe_id == "p-7"
    assert list(update.update_mask.paths) == ["labels", "inner"]  # the path's id is not a change
    explicit = transcode("PATCH", "/v1/probes/p-7", [("update_mask", "labels,inner.year")], body)
    assert list(explicit.update_mask.paths) == ["labels", "inner.year"]
    camel = transcode("PATCH", "/v1/probes/p-7", [("updateMask", "probeId,inner")], body)
    assert list(camel.update_mask.paths) == ["probe_id", "inner"]


def test_real_contract_search_reservations_from_the_query():
    router = Router(bindings_for([RESERVATIONS]))
    binding, values = router.resolve("GET", "/reservations")
    query = [
        ("page_size", "10"),
        ("tripDateFrom.year", "2027"),
        ("trip_date_from.month", "3"),
        ("status", "RESERVATION_STATUS_CONFIRMED"),
    ]
    request = from_http(binding, values, query, b"")
    assert request == res.SearchReservationsRequest(
        page_size=10, status=res.RESERVATION_STATUS_CONFIRMED, trip_date_from={"year": 2027, "month": 3}
    )
    binding, values = router.resolve("POST", "/reservations/r-1/participants")
    added = from_http(binding, values, [], b'{"guestId": "g-1", "waiver_signed": true}')
    assert added == res.AddParticipantRequest(
        reservation_id="r-1", participant=res.Participant(guest_id="g-1", waiver_signed=True)
    )
