"""Routes read from the compiled contracts: one binding per `google.api.http` rule of a service."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cached_property

from google.api import annotations_pb2
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from services.gateway.fields import is_query_leaf, is_repeated, proto_path, resolve_field_path
from services.gateway.routes import PathTemplate, TemplateError, parse_template


@dataclass(frozen=True)
class Binding:
    service: str  # full service name, the key of the upstream map
    method: MethodDescriptor
    http_method: str
    template: PathTemplate
    body: str  # "", "*" or a top-level request field
    response_body: str
    index: int  # 0: the method's rule; n: its n-th additional binding

    @cached_property
    def request_cls(self):
        return message_factory.GetMessageClass(self.method.input_type)

    @cached_property
    def response_cls(self):
        return message_factory.GetMessageClass(self.method.output_type)

    @cached_property
    def template_fields(self) -> frozenset[str]:
        """Proto paths of the fields the path template sets."""
        return frozenset(
            proto_path(resolve_field_path(self.method.input_type, v.field_path)) for v in self.template.variables
        )

    @property
    def rpc_path(self) -> str:
        return f"/{self.service}/{self.method.name}"

    @property
    def operation_id(self) -> str:
        base = f"{self.method.containing_service.name}_{self.method.name}"
        return f"{base}_{self.index + 1}" if self.index else base


def find_service(full_name: str) -> ServiceDescriptor:
    """The service's descriptor; imports the generated modules of its package when not loaded yet."""
    pool = descriptor_pool.Default()
    try:
        return pool.FindServiceByName(full_name)
    except KeyError:
        package = importlib.import_module(full_name.rpartition(".")[0])  # e.g. novatrek.partners.v1
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.endswith("_pb2"):
                importlib.import_module(f"{package.__name__}.{info.name}")
    return pool.FindServiceByName(full_name)


def _check(binding: Binding) -> Binding:
    """Refuses at start-up what could only fail per request: variables and bodies naming no field."""
    request = binding.method.input_type
    where = f"{binding.method.full_name} {binding.http_method} {binding.template.source}"
    for var in binding.template.variables:
        try:
            leaf = resolve_field_path(request, var.field_path)[-1]
        except KeyError:
            raise TemplateError(f"{where}: no field {var.field_path!r}") from None
        if is_repeated(leaf) or not is_query_leaf(leaf):
            raise TemplateError(f"{where}: {var.field_path!r} is not a singular scalar field")
    if binding.body not in ("", "*") and request.fields_by_name.get(binding.body) is None:
        raise TemplateError(f"{where}: body names no field {binding.body!r}")
    if binding.response_body and binding.method.output_type.fields_by_name.get(binding.response_body) is None:
        raise TemplateError(f"{where}: response_body names no field {binding.response_body!r}")
    return binding


def bindings_of(service: ServiceDescriptor) -> list[Binding]:
    found = []
    for method in service.methods:
        options = method.GetOptions()
        if not options.HasExtension(annotations_pb2.http) or method.client_streaming or method.server_streaming:
            continue  # only annotated unary methods are transcoded
        rule = options.Extensions[annotations_pb2.http]
        for index, r in enumerate([rule, *rule.additional_bindings]):
            kind = r.WhichOneof("pattern")
            if kind is None:
                raise TemplateError(f"{method.full_name}: http rule without a pattern")
            verb, path = (
                (r.custom.kind.upper(), r.custom.path) if kind == "custom" else (kind.upper(), getattr(r, kind))
            )
            found.append(
                _check(Binding(service.full_name, method, verb, parse_template(path), r.body, r.response_body, index))
            )
    return found


def bindings_for(services: list[str]) -> list[Binding]:
    return [b for name in services for b in bindings_of(find_service(name))]


def idempotent_methods(bindings: list[Binding]) -> dict[str, list[str]]:
    """Methods reachable only through GET: safe for the channel to retry on UNAVAILABLE."""
    verbs: dict[tuple[str, str], set[str]] = {}
    for b in bindings:
        verbs.setdefault((b.service, b.method.name), set()).add(b.http_method)
    out: dict[str, list[str]] = {}
    for (service, method), used in verbs.items():
        if used == {"GET"}:
            out.setdefault(service, []).append(method)
    return out
