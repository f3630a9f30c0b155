"""Path templates of google.api.http: parsing, matching, precedence, and routes read from descriptors."""

from dataclasses import dataclass

import pytest

from services.gateway.bindings import bindings_for, idempotent_methods
from services.gateway.config import CATALOG, GUESTS, PARTNERS, RESERVATIONS
from services.gateway.routes import (
    LITERAL,
    MANY,
    ONE,
    MethodNotAllowed,
    NoRoute,
    PathTemplate,
    Router,
    TemplateError,
    parse_template,
)


def parts(path: str) -> list[str]:
    return path[1:].split("/")


def test_parses_literals_variables_and_verbs():
    t = parse_template("/v1/bookings/{booking_id}:cancel")
    assert [s.kind for s in t.segments] == [LITERAL, LITERAL, ONE] and t.verb == "cancel"
    assert [(v.field_path, v.start, v.end) for v in t.variables] == [("booking_id", 2, 3)]
    nested = parse_template("/reservations/{reservation.reservation_id}")
    assert nested.variables[0].field_path == "reservation.reservation_id"
    multi = parse_template("/v1/{name=projects/*/trips/*}:archive")
    assert [(s.kind, s.text) for s in multi.segments] == [
        (LITERAL, "v1"),
        (LITERAL, "projects"),
        (ONE, ""),
        (LITERAL, "trips"),
        (ONE, ""),
    ]
    assert [(v.start, v.end) for v in multi.variables] == [(1, 5)] and multi.verb == "archive"
    assert parse_template("/files/{path=**}").segments[-1].kind == MANY
    assert parse_template("/reservations:lookup").verb == "lookup"


@pytest.mark.parametrize(
    "bad", ["reservations", "/a/{b", "/a/{b}}", "/a//b", "/a/{b}/{b}", "/a/{1x}", "/a/**/b", "/a/b:", "/a/{b=c:d}"]
)
def test_refuses_malformed_templates(bad):
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_matches_and_extracts_decoded_values():
    t = parse_template("/reservations/{reservation_id}/participants")
    assert t.match(parts("/reservations/abc/participants")) == {"reservation_id": "abc"}
    assert t.match(parts("/reservations/a%2Fb%20c/participants")) == {"reservation_id": "a/b c"}
    assert t.match(parts("/reservations//participants")) is None  # a variable is never empty
    assert t.match(parts("/reservations/abc/participants/")) is None
    assert t.match(parts("/reservations/abc")) is None
    verb = parse_template("/v1/bookings/{booking_id}:cancel")
    assert verb.match(parts("/v1/bookings/b-1:cancel")) == {"booking_id": "b-1"}
    assert verb.match(parts("/v1/bookings/b-1")) is None
    multi = parse_template("/v1/{name=projects/*}/trips")
    assert multi.match(parts("/v1/projects/p1/trips")) == {"name": "projects/p1"}
    assert multi.match(parts("/v1/folders/p1/trips")) is None
    rest = parse_template("/files/{path=**}")
    assert rest.match(parts("/files/a/b/c")) == {"path": "a/b/c"}


def test_renders_openapi_style_paths():
    t = parse_template("/v1/{name=projects/*}/trips/{trip.trip_id}:hold")
    assert t.render() == "/v1/{name}/trips/{trip.trip_id}:hold"
    assert t.render(str.upper) == "/v1/{NAME}/trips/{TRIP.TRIP_ID}:hold"
    assert parse_template("/a/*/b").render() == "/a/*/b"


@dataclass
class R:
    http_method: str
    template: PathTemplate
    name: str


def router(*routes: tuple[str, str, str]) -> Router:
    return Router([R(m, parse_template(t), n) for m, t, n in routes])


def test_literal_segments_win_over_variables_and_verbs_over_plain():
    r = router(
        ("GET", "/trips/{trip_id}", "get"),
        ("GET", "/trips/featured", "featured"),
        ("GET", "/trips/{trip_id}:summary", "summary"),
        ("GET", "/{path=**}", "fallback"),
    )
    assert r.resolve("GET", "/trips/featured")[0].name == "featured"
    route, values = r.resolve("GET", "/trips/t1")
    assert (route.name, values) == ("get", {"trip_id": "t1"})
    assert r.resolve("GET", "/trips/t1:summary")[0].name == "summary"
    assert r.resolve("GET", "/elsewhere/x")[0].name == "fallback"


def test_method_mismatch_is_405_with_the_allowed_methods_and_unknown_is_404():
    r = router(
        ("GET", "/trips/{trip_id}", "get"), ("DELETE", "/trips/{trip_id}", "delete"), ("POST", "/trips", "create")
    )
    with pytest.raises(MethodNotAllowed) as caught:
        r.resolve("PUT", "/trips/t1")
    assert caught.value.allowed == {"GET", "DELETE"}
    with pytest.raises(NoRoute):
        r.resolve("GET", "/boats")
    # A more general route with the right method serves the request rather than a 405.
    r = router(("POST", "/trips/featured", "promote"), ("GET", "/trips/{trip_id}", "get"))
    assert r.resolve("GET", "/trips/featured")[0].name == "get"


def test_the_same_binding_twice_is_refused():
    with pytest.raises(TemplateError):
        router(("GET", "/trips/{trip_id}", "a"), ("GET", "/trips/{id}", "b"))


def test_routes_come_from_the_annotations():
    bindings = bindings_for([RESERVATIONS, GUESTS, CATALOG, PARTNERS])
    by_name = {(b.method.name, b.index): b for b in bindings}
    update = by_name[("UpdateReservation", 0)]
    assert (update.http_method, update.template.source, update.body) == (
        "PATCH",
        "/reservations/{reservation.reservation_id}",
        "reservation",
    )
    assert update.template_fields == {"reservation.reservation_id"}
    lookup = by_name[("GetReservation", 1)]  # the additional binding
    assert (lookup.template.source, lookup.operation_id) == (
        "/reservations:lookup",
        "ReservationService_GetReservation_2",
    )
    cancel = by_name[("CancelPartnerBooking", 0)]
    assert (cancel.http_method, cancel.template.verb, cancel.rpc_path) == (
        "POST",
        "cancel",
        "/novatrek.partners.v1.PartnerService/CancelPartnerBooking",
    )
    routed, values = Router(bindings).resolve("POST", "/v1/bookings/b-9:cancel")
    assert routed is cancel and values == {"booking_id": "b-9"}
    retried = idempotent_methods(bindings)
    assert "GetReservation" in retried[RESERVATIONS] and "CreateReservation" not in retried[RESERVATIONS]
