"""Validators match the whole value: `re.match` with `$` lets a trailing newline through ("key\n")."""

import pytest

from services.chassis import limits
from services.gateway import headers, routes
from services.partners import servicer as partners


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        (partners.IDEMPOTENCY_KEY, "key-1"),
        (limits.EMAIL, "ops@ota.example"),
        (partners.WEBHOOK, "https://ota.example/hooks"),
    ],
)
def test_a_trailing_newline_is_refused(pattern, good):
    assert pattern.fullmatch(good) and not pattern.fullmatch(good + "\n")


def test_the_gateway_refuses_a_timeout_or_field_path_with_a_trailing_newline():
    assert headers._GRPC_TIMEOUT.fullmatch("5S") and not headers._GRPC_TIMEOUT.fullmatch("5S\n")
    assert routes._FIELD_PATH.fullmatch("a.b") and not routes._FIELD_PATH.fullmatch("a.b\n")
