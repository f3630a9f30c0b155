"""Gateway settings: environment (JSON for lists and maps) and the checks made at start-up."""

import pytest
from pydantic import ValidationError

from services.gateway.config import PARTNERS, RESERVATIONS, GatewaySettings


def test_defaults_expose_partners_publicly_and_the_seed_surfaces_internally():
    s = GatewaySettings()
    assert (s.port, s.internal_port, s.internal_host, s.public_services) == (8080, 8081, "127.0.0.1", [PARTNERS])
    assert RESERVATIONS in s.internal_services and RESERVATIONS not in s.public_services
    assert s.max_body_bytes == 1024 * 1024 and s.default_timeout_s == 10.0


def test_environment_configures_upstreams_and_surfaces(monkeypatch):
    monkeypatch.setenv(
        "NOVATREK_GATEWAY_UPSTREAMS", f'{{"{PARTNERS}": "partners:50056", "{RESERVATIONS}": "res:50053"}}'
    )
    monkeypatch.setenv("NOVATREK_GATEWAY_PUBLIC_SERVICES", f'["{PARTNERS}", "{RESERVATIONS}"]')
    monkeypatch.setenv("NOVATREK_GATEWAY_INTERNAL_ENABLED", "false")
    monkeypatch.setenv("NOVATREK_GATEWAY_FORWARDED_HEADERS", '["Traceparent", "x-partner-channel"]')
    s = GatewaySettings()
    assert s.upstreams[PARTNERS] == "partners:50056" and s.public_services == [PARTNERS, RESERVATIONS]
    assert s.forwarded_headers == ["traceparent", "x-partner-channel"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"public_services": ["novatrek.acme.v1.AcmeService"]},  # exposed without an upstream address
        {"forwarded_headers": ["grpc-timeout"]},
        {"forwarded_headers": ["cookie-bin"]},
        {"forwarded_headers": ["bad header"]},
        {"forwarded_headers": ["X-Novatrek-Mesh-Call"]},  # the mark of a call between services: never from outside
        {"rate_limit_per_s": 0},
        {"default_timeout_s": 90, "max_timeout_s": 60},
    ],
)
def test_inconsistent_settings_are_refused(overrides):
    with pytest.raises(ValidationError):
        GatewaySettings(**overrides)
