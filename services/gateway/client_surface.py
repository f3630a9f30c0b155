"""The client surface's rules, decided per route at start-up from its path template (never from a request's
path, which percent-encoding could dress up): a route under `client_protected_prefix` needs a customer's
token and gets `user_id` from it; one under `client_guest_prefix` needs none and is throttled per client
address; any other route is the listener's as before."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.chassis import errors as domain
from services.gateway.bindings import Binding
from services.gateway.client_auth import TokenVerifier, not_configured
from services.gateway.config import GatewaySettings
from services.gateway.errors import gateway_error, invalid
from services.gateway.fields import descriptor_of, is_repeated
from services.gateway.ratelimit import RateLimiter
from services.gateway.routes import LITERAL, MANY, PathTemplate, TemplateError

USER_ID, CUSTOMER_ID = "user_id", "customer_id"
log = logging.getLogger("novatrek.gateway")


class Access(enum.Enum):
    OPEN = "open"  # not on the client surface
    CUSTOMER = "customer"  # a verified customer token; user_id is its sub
    GUEST = "guest"  # no token; throttled per client address


def _segments(prefix: str) -> list[str]:
    return [s for s in prefix.strip("/").split("/") if s]


def _under(template: PathTemplate, prefix: list[str]) -> bool:
    """Whether every path the template matches starts with the prefix's literal segments."""
    head = template.segments[: len(prefix)]
    return len(head) == len(prefix) and all(
        s.kind == LITERAL and s.text == p for s, p in zip(head, prefix, strict=False)
    )


def _reaches(template: PathTemplate, prefix: list[str]) -> bool:
    """Whether some path the template matches starts with the prefix (a variable there may be it)."""
    for segment, text in zip(template.segments, prefix, strict=False):
        if segment.kind == MANY:
            return True
        if segment.kind == LITERAL and segment.text != text:
            return False
    return len(template.segments) >= len(prefix)


def access_of(template: PathTemplate, protected: str, guest: str) -> Access:
    """The route's access; a template that may match protected paths without being under the prefix is
    refused at start-up (its requests would skip the token check)."""
    if _under(template, _segments(guest)):
        return Access.GUEST
    if _under(template, _segments(protected)):
        return Access.CUSTOMER
    if _reaches(template, _segments(protected)):
        raise TemplateError(f"{template.source} may match paths under {protected} without a literal {protected}")
    return Access.OPEN


def check_customer_binding(binding: Binding) -> None:
    """A protected route's request must have a singular string `user_id` that only the token sets."""
    where = f"{binding.method.full_name} {binding.http_method} {binding.template.source}"
    field = binding.method.input_type.fields_by_name.get(USER_ID)
    if field is None or field.type != FieldDescriptor.TYPE_STRING or is_repeated(field):
        raise TemplateError(f"{where}: on the client surface, so its request needs a string field {USER_ID}")
    if USER_ID in binding.template_fields or binding.body == USER_ID:
        raise TemplateError(f"{where}: {USER_ID} comes from the customer's token, not the path or the body")


class ClientSurface:
    """One listener's client surface: each route's access, the token verifier, the guest buckets."""

    def __init__(
        self, settings: GatewaySettings, bindings: list[Binding], clock: Callable[[], float] = time.monotonic
    ) -> None:
        protected, guest = settings.client_protected_prefix, settings.client_guest_prefix
        self.access = {(b.rpc_path, b.index): access_of(b.template, protected, guest) for b in bindings}
        for b in bindings:
            if self.of(b) is Access.CUSTOMER:
                check_customer_binding(b)
        self.verifier = TokenVerifier.from_settings(settings)
        self.guests = RateLimiter(
            settings.guest_rate_per_min / 60, settings.guest_burst, clock, settings.rate_limit_max_clients
        )

    @property
    def protects(self) -> bool:
        return Access.CUSTOMER in self.access.values()

    def of(self, binding: Binding) -> Access:
        return self.access.get((binding.rpc_path, binding.index), Access.OPEN)

    def throttle(self, binding: Binding, client_ip: str | None) -> None:
        """The guest path's own bucket per client address (whatever Authorization it sends): 429 past it."""
        if self.of(binding) is Access.GUEST and (wait := self.guests.take(f"ip:{client_ip or 'unknown'}")):
            raise gateway_error(
                domain.ResourceExhausted(
                    "too many guest requests from this address", reason="GUEST_RATE_LIMITED", retry_after_s=wait
                )
            )

    def authenticate(self, binding: Binding, authorization: str | None) -> str | None:
        """The customer's user id on a protected route (401 without a valid token), else None."""
        if self.of(binding) is not Access.CUSTOMER:
            return None
        if self.verifier is None:
            raise not_configured()
        return self.verifier.user_id(authorization)

    def forwards_authorization(self, binding: Binding) -> bool:
        """A customer's token is the gateway's to check: never sent on to a service."""
        return self.of(binding) is Access.OPEN


def apply_identity(message: Message, user_id: str | None) -> None:
    """On a protected route: the token's user id overwrites whatever the client sent as `user_id`, and a
    `customer_id` (mesh callers name the customer that way) is refused: the customer is the token's."""
    if user_id is None:
        return
    if CUSTOMER_ID in descriptor_of(message).fields_by_name and getattr(message, CUSTOMER_ID):
        raise invalid([(CUSTOMER_ID, "is not accepted here: the customer is the bearer token's user")])
    setattr(message, USER_ID, user_id)
