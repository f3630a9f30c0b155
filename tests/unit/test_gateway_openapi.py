"""The OpenAPI document derived from the descriptors: schemas in JSON names, bodies, parameters."""

from services.gateway.bindings import bindings_for
from services.gateway.config import CATALOG, GUESTS, RESERVATIONS
from services.gateway.openapi import docs_page, openapi_document

DOC = openapi_document(bindings_for([RESERVATIONS, GUESTS, CATALOG]), "internal", bearer_auth=False)
SCHEMAS = DOC["components"]["schemas"]


def operation(path: str, method: str) -> dict:
    return DOC["paths"][path][method]


def params(op: dict, where: str) -> dict[str, dict]:
    return {p["name"]: p for p in op["parameters"] if p.get("in") == where}


def test_operations_are_unique_and_answer_status_on_error():
    ids = [op["operationId"] for methods in DOC["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids)) == 31  # the catalog's sessions added 9
    status = SCHEMAS["google.rpc.Status"]["properties"]
    assert status["code"]["type"] == "integer" and status["details"]["items"]["required"] == ["@type"]


def test_body_star_is_the_request_without_its_path_fields():
    create = operation("/reservations", "post")["requestBody"]["content"]["application/json"]["schema"]
    assert {"requestId", "guestId", "tripId", "tripDate", "partySize"} == set(create["required"])
    move = operation("/reservations/{reservationId}/status", "put")
    body = move["requestBody"]["content"]["application/json"]["schema"]
    assert (
        "reservationId" not in body["properties"]
        and body["properties"]["status"]["enum"][0] == "RESERVATION_STATUS_UNSPECIFIED"
    )
    assert params(move, "path")["reservationId"]["required"] is True and not params(move, "query")


def test_sub_field_body_and_the_remaining_fields_as_query_parameters():
    update = operation("/reservations/{reservationId}", "patch")
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/novatrek.reservations.v1.Reservation"
    }
    assert set(params(update, "query")) == {"updateMask", "expectedRevision"} and set(params(update, "path")) == {
        "reservationId"
    }
    assert params(update, "query")["updateMask"]["schema"]["type"] == "string"
    search = params(operation("/reservations", "get"), "query")
    assert search["tripDateFrom.month"]["schema"] == {
        "type": "integer",
        "format": "int32",
        "minimum": -(2**31),
        "maximum": 2**31 - 1,
    }
    assert search["status"]["schema"]["type"] == "string"


def test_well_known_and_google_type_messages_are_mapped_as_their_json():
    participant = SCHEMAS["novatrek.reservations.v1.Participant"]
    assert participant["required"] == ["guestId"] and participant["properties"]["participantId"]["readOnly"] is True
    money = SCHEMAS["google.type.Money"]
    assert money["properties"]["units"]["type"] == "string" and money["properties"]["nanos"]["maximum"] == 999_999_999
    assert "exact: decimal" in money["description"]
    assert SCHEMAS["google.type.Date"]["properties"]["month"] == {
        "type": "integer",
        "format": "int32",
        "minimum": 0,
        "maximum": 12,
    }
    listed = SCHEMAS["novatrek.reservations.v1.SearchReservationsResponse"]["properties"]["reservations"]
    assert listed == {"type": "array", "items": {"$ref": "#/components/schemas/novatrek.reservations.v1.Reservation"}}


def test_docs_page_lists_every_operation_without_external_assets():
    page = docs_page(DOC)
    assert page.count("<tr>") == 32 and "http" not in page.replace("http-equiv", "")
