"""schemathesis against the internal surface's own /openapi.json on a live uvicorn server, in front of
the real services: whatever the document allows, nothing answers 5xx."""

from __future__ import annotations

import asyncio

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from tests.integration.test_gateway import gateway_settings, live_gateway, mesh

EXAMPLES_PER_OPERATION = 20


def fuzz(base_url: str, spec: dict) -> list[str]:
    """Runs every operation's examples (derandomized, so every run is the same); returns the failures."""
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    for result in schema.get_all_operations():
        if not hasattr(result, "ok"):  # schemathesis could not read the operation: the document is wrong
            failures.append(f"unreadable operation: {result.err()!r} {vars(result.err())}")
            continue
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            case.call_and_validate(base_url=base_url, checks=[not_a_server_error], timeout=10)

        try:
            check()
        except Exception as exc:  # one failing operation must not hide the others
            failures.append(f"{operation.label}: {exc}")
    return failures


async def test_no_operation_answers_a_server_error(reservations_service, guests_service, catalog_service):
    async with live_gateway(gateway_settings(mesh(reservations_service, guests_service, catalog_service))) as running:
        base_url = str(running.internal.base_url).rstrip("/")
        spec = (await running.internal.get("/openapi.json")).json()
        # schemathesis is synchronous: it runs in a thread while this loop serves the gateway and services.
        failures = await asyncio.wait_for(asyncio.to_thread(fuzz, base_url, spec), timeout=90)
    assert not failures, "\n\n".join(failures)
