"""The REST gateway served by uvicorn on loopback for integration tests, how its answers are read, and
the schemathesis run over a listener's own /openapi.json."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case

from services.gateway.config import INTERNAL_SERVICES, PARTNERS, GatewaySettings
from services.gateway.main import Gateway, build

EXAMPLES_PER_OPERATION = 20


@dataclass
class Live:
    gateway: Gateway
    internal: httpx.AsyncClient | None  # None when the internal listener is off
    public: httpx.AsyncClient


def gateway_settings(upstreams: dict[str, str], **overrides) -> GatewaySettings:
    """The internal listener exposes the internal services among `upstreams` (those the test runs)."""
    # Limits high enough that only the rate-limit tests ever meet them.
    base = {
        "internal_services": [s for s in INTERNAL_SERVICES if s in upstreams],
        "host": "127.0.0.1",
        "port": 0,
        "internal_host": "127.0.0.1",
        "internal_port": 0,
        "rate_limit_per_s": 10_000.0,
        "rate_limit_burst": 10_000,
        "guest_rate_per_min": 600_000.0,
        "guest_burst": 10_000,
        "access_log": False,
    }
    return GatewaySettings(upstreams={**GatewaySettings().upstreams, **upstreams}, **{**base, **overrides})


def partner_gateway_settings(partners_address: str, **overrides) -> GatewaySettings:
    """The public (partner) listener alone, in front of one partner-integrations server."""
    return gateway_settings({PARTNERS: partners_address}, internal_enabled=False, **overrides)


@asynccontextmanager
async def live_gateway(settings: GatewaySettings, clock: Callable[[], float] = time.monotonic):
    gateway = build(settings, clock)
    ports = await gateway.start()
    clients = {name: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=15) for name, port in ports.items()}
    try:
        yield Live(gateway, clients.get("internal"), clients["public"])
    finally:
        for client in clients.values():
            await client.aclose()
        await gateway.stop()


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def failure(response: httpx.Response, http_status: int) -> tuple[str, dict, dict]:
    """(reason, ErrorInfo metadata, BadRequest violations) of a google.rpc.Status body, which must carry
    typed details (every error the gateway or a service answers has an ErrorInfo at least)."""
    assert response.status_code == http_status, response.text
    body = response.json()
    assert set(body) <= {"code", "message", "details"} and isinstance(body["code"], int) and body["details"], body
    reason, metadata, violations = "", {}, {}
    for detail in body["details"]:
        if detail["@type"].endswith("google.rpc.ErrorInfo"):
            assert detail["domain"] == "novatrek.io"
            reason, metadata = detail["reason"], detail.get("metadata", {})
        elif detail["@type"].endswith("google.rpc.BadRequest"):
            violations = {v["field"]: v["description"] for v in detail["fieldViolations"]}
    assert reason, body
    return reason, metadata, violations


def date_json(day) -> dict:
    return {"year": day.year, "month": day.month, "day": day.day}


def fuzz(base_url: str, spec: dict, checks: list, prepare: Callable[[Case, bool], None] | None = None) -> list[str]:
    """Runs every operation's examples (derandomized, so every run is the same) with `checks`; returns
    the failures. `prepare(case, known)` may edit each case first (credentials; with `known`, ids of
    things that exist, so that examples get past "not found" to the code behind it)."""
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not hasattr(result, "ok"):  # schemathesis could not read the operation: the document is wrong
            failures.append(f"unreadable operation: {result.err()!r} {vars(result.err())}")
            continue
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), known=st.booleans())
        def check(case: Case, known: bool) -> None:
            if prepare is not None:
                prepare(case, known)
            case.call_and_validate(base_url=base_url, checks=checks, timeout=10)

        try:
            check()
        except Exception as exc:  # one failing operation must not hide the others
            failures.append(f"{operation.label}: {exc}")
    return failures
