"""The reliability suite runs on the integration fixtures (real servers, PostgreSQL, NATS). The
soak test is long: it is deselected (not skipped) unless `--run-soak` is given."""

from __future__ import annotations

from tests.integration.conftest import *  # noqa: F403 - the service fixtures, shared


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-soak"):
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]
