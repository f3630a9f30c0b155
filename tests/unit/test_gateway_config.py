"""Gateway settings: environment (JSON for lists and maps) and the checks made at start-up."""

import pytest
from pydantic import ValidationError

from services.gateway.config import BOOKINGS, PARTNERS, RESERVATIONS, GatewaySettings

SECRET = "s" * 32


def test_defaults_expose_partners_and_the_client_surface_publicly_and_the_seed_surfaces_internally():
    s = GatewaySettings()
    assert (s.port, s.internal_port, s.internal_host) == (8080, 8081, "127.0.0.1")
    assert s.public_services == [PARTNERS, BOOKINGS] and s.upstreams[BOOKINGS] == "127.0.0.1:50060"
    assert (s.client_protected_prefix, s.client_guest_prefix, s.guest_rate_per_min, s.guest_burst) == (
        "/api/client/",
        "/api/client/guest/",
        6.0,
        3,
    )
    assert s.client_token_key.get_secret_value() == "" and s.client_token_algorithms == ["HS256"]
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
        {"guest_rate_per_min": 0},
        {"guest_burst": 0},
        {"client_token_key": SECRET, "client_token_algorithms": ["none"]},
        {"client_token_key": SECRET, "client_token_algorithms": ["HS256", "None"]},
        {"client_token_algorithms": []},
        {"client_token_algorithms": ["HS257"]},
        {"client_token_algorithms": ["HS256", "RS256"]},  # a public key would sign as an HMAC secret
        {"client_token_key": "short"},  # an HS256 secret shorter than the hash
        {"client_token_key": SECRET, "client_token_algorithms": ["HS256", "HS512"]},  # 64 bytes for HS512
        {"client_token_key": "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----"},  # PEM with HS256
        {"client_token_key": "not a pem", "client_token_algorithms": ["RS256"]},
        {"client_protected_prefix": "/api/client"},  # would also cover /api/clientele
        {"client_guest_prefix": "api/client/guest/"},
        {"client_token_leeway_s": -1},
    ],
)
def test_inconsistent_settings_are_refused(overrides):
    with pytest.raises(ValidationError):
        GatewaySettings(**overrides)


def test_the_client_token_key_is_a_secret(monkeypatch):
    monkeypatch.setenv("NOVATREK_GATEWAY_CLIENT_TOKEN_KEY", SECRET * 2)
    monkeypatch.setenv("NOVATREK_GATEWAY_CLIENT_TOKEN_ALGORITHMS", '["HS512"]')
    s = GatewaySettings()
    assert s.client_token_key.get_secret_value() == SECRET * 2 and SECRET not in repr(s) and SECRET not in str(s)
