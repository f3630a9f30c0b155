"""The header table (header_specs.py) against the docs, the OpenAPI documents and the gateway's checks;
Content-Type; a transport's size refusal."""

import grpc
import pytest
from google.rpc import error_details_pb2

from services.chassis import errors
from services.chassis.status import to_status
from services.gateway import headers
from services.gateway.bindings import bindings_for
from services.gateway.config import CATALOG, GUESTS, PARTNERS, RESERVATIONS
from services.gateway.errors import GatewayError, from_rpc_error
from services.gateway.header_specs import DOCS, SPECS, docs_table, markdown_table, openapi_parameter
from services.gateway.openapi import openapi_document, path_parameter_names
from tests.unit.test_gateway_errors import rpc_error

BOOKING = "novatrek.partners.v1.PartnerService.CreatePartnerBooking"
OTHER = "novatrek.partners.v1.PartnerService.CancelPartnerBooking"
SURFACES = [[PARTNERS], [RESERVATIONS, GUESTS, CATALOG]]


def test_the_docs_table_is_the_rendered_table():
    assert docs_table(DOCS.read_text()) == markdown_table(), "run: python -m services.gateway.header_specs"


@pytest.mark.parametrize("services", SURFACES)
def test_every_operations_header_parameters_are_the_specs(services):
    bindings = bindings_for(services)
    doc = openapi_document(bindings, "t", bearer_auth=False)
    for b in bindings:
        op = doc["paths"][b.template.render(path_parameter_names(b).__getitem__)][b.http_method.lower()]
        listed = [p for p in op["parameters"] if p["in"] == "header"]
        expected = [openapi_parameter(s, b.method.full_name) for s in SPECS if s.listed_on(b.method.full_name)]
        assert listed == expected, b.operation_id


def test_required_headers_name_methods_that_exist_and_are_documented_as_required():
    methods = {b.method.full_name for b in bindings_for([PARTNERS, RESERVATIONS, GUESTS, CATALOG])}
    for spec in SPECS:
        assert spec.required_for <= methods, spec.name
    public = openapi_document(bindings_for([PARTNERS]), "t", bearer_auth=True)
    key = next(p for p in public["paths"]["/v1/bookings"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["required"] is True and key["schema"]["maxLength"] == 255


def refusal(sent: dict, method: str = OTHER, allow: tuple = ("baggage",)) -> tuple[int, str, dict]:
    with pytest.raises(GatewayError) as caught:
        headers.outbound_metadata(sent, "rid", list(allow), method)
    reply, info = caught.value.reply, error_details_pb2.ErrorInfo()
    assert reply.status.details[0].Unpack(info)
    return reply.http_status, info.reason, dict(info.metadata)


def test_each_header_has_its_limit_and_all_together_one():
    assert refusal({"authorization": "x" * 2049}) == (
        431,
        "HEADER_TOO_LARGE",
        {"header": "Authorization", "limit_bytes": "2048"},
    )
    assert refusal({"x-tenant": "x" * 1025}, allow=("x-tenant",))[2]["header"] == "x-tenant"  # defaults
    together = {"authorization": "a" * 2000, "baggage": "b" * 2000, "idempotency-key": "k" * 100}
    assert refusal(together) == (431, "HEADERS_TOO_LARGE", {"limit_bytes": "4096"})
    assert headers.outbound_metadata({"authorization": "a" * 2048}, "rid", [], OTHER)[1] == (
        "authorization",
        "a" * 2048,
    )


def test_patterns_and_required_headers():
    assert refusal({}, BOOKING)[:2] == (400, "INVALID_ARGUMENT")
    assert headers.outbound_metadata({}, "rid", [], OTHER) == (("x-request-id", "rid"),)
    assert refusal({"idempotency-key": "a b"}, OTHER)[:2] == (400, "INVALID_ARGUMENT")
    assert headers.outbound_metadata({"idempotency-key": "a@b/c"}, "rid", [], BOOKING)[1] == (
        "idempotency-key",
        "a@b/c",
    )
    assert headers.request_id({"x-request-id": "ota/81723@eu+1=a"}) == "ota/81723@eu+1=a"


@pytest.mark.parametrize(
    ("content_type", "json"),
    [
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ('application/json;charset="utf-8"', True),
        ("application/merge-patch+json", True),
        ("application/vnd.novatrek.v1+json; q=1", True),
        ("application/json; charset=latin-1", False),
        ("text/plain", False),
        ("application/xml", False),
        ("application/jsonx", False),
        ("text/json", False),
        ("", False),
    ],
)
def test_json_media_types(content_type, json):
    assert headers.is_json(content_type) is json


def test_a_transport_size_refusal_is_never_429():
    metadata = rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "received metadata size exceeds hard limit (2174 vs. 1024)"
    )
    reply = from_rpc_error(metadata)
    assert (reply.http_status, reply.status.message) == (431, "request headers too large")
    message = from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max"))
    assert (message.http_status, message.status.message) == (500, "internal error")
    code, status = to_status(errors.ResourceExhausted("too many calls", reason="OVERLOADED", retry_after_s=1))
    assert from_rpc_error(rpc_error(code, "too many calls", status)).http_status == 429  # a service's quota
