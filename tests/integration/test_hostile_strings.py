"""Every string input of every RPC of every service, fed hostile text (NUL, C0/C1 controls, NEL, the
Unicode separators, very long strings) through gRPC, and through the gateway's REST listeners: no
answer is INTERNAL / UNKNOWN (or a 5xx), an INVALID_ARGUMENT names the field, and no refused
character is stored."""

from __future__ import annotations

import time
from urllib.parse import quote

import grpc
import pytest
from google.protobuf import json_format, message_factory
from hypothesis import strategies as st

from services.gateway.bindings import bindings_for
from services.gateway.config import CATALOG, GUESTS, PARTNERS, RESERVATIONS
from tests.helpers import parse_failure
from tests.integration.gateway_fixtures import gateway_settings, live_gateway
from tests.integration.hostile_strings import (
    EVERY_FIELD,
    INPUT_METADATA,
    ONE_OF,
    ascii_hostile,
    friendly,
    hostile_text,
    must_refuse,
    names_field,
    stored_refusal,
    string_paths,
    strings_of,
    with_value,
)
from tests.integration.partner_fixtures import ADMIN_TOKEN
from tests.integration.test_gateway import mesh
from tests.reliability.hostile import examples, methods_of, problem, running  # noqa: F401 (fixture)
from tests.reliability.test_hostile_input import ADMIN_ONLY, SERVICES, known, metadata_for  # noqa: F401 (fixture)

VALUES_PER_FIELD = 6
CALL_TIMEOUT_S = 10.0


def _methods(service: str):
    return methods_of(SERVICES[service])


def _cases(service: str, known_values: dict) -> list[tuple]:
    """(method, path, base request, value): each string field meets EVERY_FIELD and its share of
    hypothesis' hostile values; `@idempotency-key` and the like stand for metadata."""
    cases = []
    for method in _methods(service):
        base = friendly(method.input_type, known_values)
        if drop := ONE_OF.get(method.name):
            base.ClearField(drop)
        paths = string_paths(method.input_type)
        cases += [(method, path, base, value) for path in paths for value in EVERY_FIELD]
        if paths:
            drawn = examples(st.tuples(st.sampled_from(paths), hostile_text()), VALUES_PER_FIELD * len(paths))
            cases += [(method, path, base, value) for path, value in drawn]
        if service == "partners":
            metadata = [f"@{name}" for name in INPUT_METADATA]
            drawn = examples(st.tuples(st.sampled_from(metadata), ascii_hostile()), VALUES_PER_FIELD * len(metadata))
            cases += [(method, path, base, value) for path, value in drawn]
    return cases


async def _send(service: str, channel, method, path: str, base, value: str, key: str):
    metadata = metadata_for(service, method.name, key)
    request = base
    if path.startswith("@"):
        metadata = (*((k, v) for k, v in metadata if k != path[1:]), (path[1:], value))
    elif path:  # none: the friendly request as it is
        request = with_value(base, path, value)
    call = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=message_factory.GetMessageClass(method.output_type).FromString,
    )
    return await call(request, metadata=metadata, timeout=CALL_TIMEOUT_S)


def _wrong_refusal(err, method: str, path: str, value: str, base_refused: dict) -> list[str]:
    if why := problem(err):
        return [why]
    failed = parse_failure(err)
    invalid = failed.code == grpc.StatusCode.INVALID_ARGUMENT and failed.reason == "INVALID_ARGUMENT"
    if invalid and base_refused[method]:
        return [] if failed.violations else ["INVALID_ARGUMENT without a BadRequest"]
    if invalid and not names_field(failed.violations, path.lstrip("@")):
        return [f"INVALID_ARGUMENT about {failed.violations}, not the field"]
    if not invalid and must_refuse(method, path, value):
        return [f"{failed.code.name} {failed.reason}, not INVALID_ARGUMENT on the field"]
    return []


async def _refused(service: str, channel, method, base, key: str) -> bool:
    """Whether the friendly request alone is already an INVALID_ARGUMENT."""
    try:
        await _send(service, channel, method, "", base, "", key)
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.INVALID_ARGUMENT
    return False


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", list(SERVICES))
async def test_no_hostile_string_is_an_internal_error_or_stored(service, running, known):
    values, key = known
    channel, found, started = running[service].channel, [], time.monotonic()
    cases, base_refused = _cases(service, values), {}
    for method, path, base, value in cases:
        if method.name not in base_refused:  # then a refusal may name another field first
            base_refused[method.name] = await _refused(service, channel, method, base, key)
        where = f"{method.name} {path}={value[:40]!r}"
        try:
            answer = await _send(service, channel, method, path, base, value, key)
        except grpc.aio.AioRpcError as err:
            found += [f"{where}: {why}" for why in _wrong_refusal(err, method.name, path, value, base_refused)]
            continue
        except ValueError:  # gRPC's client refused to send the metadata: nothing reached the service
            continue
        if must_refuse(method.name, path, value):
            found.append(f"{where}: accepted")
        elif why := stored_refusal(strings_of(answer), path, value):
            found.append(f"{where}: {why}")
    print(f"\nhostile strings, {service}: {len(cases)} calls in {time.monotonic() - started:.1f}s")
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
async def gateway(running):
    upstreams = {
        **mesh(running["reservations"], running["guests"], running["catalog"]),
        PARTNERS: running["partners"].address,
    }
    async with live_gateway(gateway_settings(upstreams)) as live:
        yield live


def _http_request(b, base, path: str, value: str) -> tuple[str, dict, dict | None]:
    """(url, query, JSON body) of a request whose field `path` holds `value`: in the path, the body or,
    for a top-level field of a call without body, the query."""
    message = with_value(base, path, value)
    url, bound = b.template.render(), {v.field_path for v in b.template.variables}
    for field_path in bound:
        leaf = message
        for part in field_path.split("."):
            leaf = getattr(leaf, part)
        url = url.replace("{" + field_path + "}", quote(str(leaf), safe=""))
    if not b.body:
        field = b.method.input_type.fields_by_name.get(path)
        return url, ({field.json_name: value} if field and path not in bound else {}), None
    payload = json_format.MessageToDict(message)
    return url, {}, payload if b.body == "*" else payload.get(b.method.input_type.fields_by_name[b.body].json_name, {})


@pytest.mark.timeout(120)
@pytest.mark.parametrize("listener", ["public", "internal"])
async def test_no_hostile_string_is_a_5xx_through_the_gateway(listener, gateway, known):
    values, key = known
    api = gateway.public if listener == "public" else gateway.internal
    services = [PARTNERS] if listener == "public" else [RESERVATIONS, GUESTS, CATALOG]
    found, calls = [], 0
    for b in bindings_for(services):
        base = friendly(b.method.input_type, values)
        admin = b.method.name in ADMIN_ONLY
        for path in string_paths(b.method.input_type):
            for value in EVERY_FIELD:
                headers = {"Authorization": f"Bearer {ADMIN_TOKEN if admin else key}", "Idempotency-Key": f"h-{calls}"}
                url, query, body = _http_request(b, base, path, value)
                answer = await api.request(b.http_method, url, params=query, headers=headers, json=body)
                calls += 1
                if answer.status_code >= 500:
                    found.append(f"{b.http_method} {url} {path}={value!r}: {answer.status_code} {answer.text[:200]}")
    print(f"\nhostile strings over REST, {listener}: {calls} calls")
    assert not found, "\n".join(found)
