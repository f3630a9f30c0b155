"""What the portal's pages say, gathered once: the architecture catalog (services, domains, teams,
events and who sends or receives them, calls found in the code), the registry (the mesh's contexts),
the data file's people-only facts, the contracts' google.api.http bindings and the data stores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from novatrek.events.v1 import options_pb2 as events

from services.architecture.build import build, load_data
from services.architecture.contracts import context_of
from services.architecture.model import Resource, slug
from services.cli.registry import REGISTRY, ServiceSpec
from services.gateway.bindings import Binding, bindings_of, find_service
from services.portal.storage import Store, store_of


@dataclass
class Context:
    spec: ServiceSpec
    service: Resource  # the catalog's gRPC service
    store: Store
    bindings: list[Binding]

    @property
    def page(self) -> str:
        return f"services/{self.spec.name}.md"


@dataclass
class Call:
    """A relation across services: `source` sends `message` (a command, query or event) to `target`."""

    source: Resource
    target: Resource
    message: Resource

    @property
    def asynchronous(self) -> bool:
        return self.message.kind == "event"


class Facts:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.catalog, self.contracts = build(root)
        self.data = load_data(root)
        self.portal = self.data.get("portal", {})
        by_proto = {r.proto: r for r in self.catalog.of_kind("service") if r.proto}
        self.contexts = [
            Context(s, by_proto[s.grpc_service], store_of(root, s), bindings_of(find_service(s.grpc_service)))
            for s in sorted(REGISTRY.values(), key=lambda s: s.name)
        ]

    def res(self, resource_id: str) -> Resource:
        return self.catalog.resources[resource_id]

    def domains(self) -> list[str]:
        return sorted({c.service.domain for c in self.contexts})

    def in_domain(self, domain: str) -> list[Context]:
        return [c for c in self.contexts if c.service.domain == domain]

    def parts_of(self, ctx: Context) -> list[Resource]:
        """The context's gRPC service and its components (catalog.toml `components` of its package: the
        Booking Orchestrator publishes what bookings' saga writes to the outbox)."""
        components = self.data.get("components", {})
        return [ctx.service, *(self.res(slug(n)) for n, e in components.items() if e["context"] == ctx.spec.package)]

    def context_of_service(self, service_id: str) -> Context | None:
        return next((c for c in self.contexts if c.service.id == service_id), None)

    def receivers(self, message_id: str) -> list[Resource]:
        return [self.res(s) for s in self.catalog.related(message_id, "receives") if self.res(s).kind == "service"]

    def senders(self, message_id: str) -> list[Resource]:
        return [self.res(s) for s in self.catalog.related(message_id, "sends")]

    def sent_by(self, service: Resource, kind: str) -> list[Resource]:
        return [r for r in map(self.res, self.catalog.targets(service.id, "sends")) if r.kind == kind]

    def received_by(self, service: Resource, kind: str) -> list[Resource]:
        return [r for r in map(self.res, self.catalog.targets(service.id, "receives")) if r.kind == kind]

    def calls(self, service: Resource) -> list[Call]:
        """Outbound: the commands and queries it sends (their receiver), the events it sends (each consumer)."""
        out = []
        for message in map(self.res, self.catalog.targets(service.id, "sends")):
            out += [Call(service, target, message) for target in self.receivers(message.id) if target != service]
        return sorted(out, key=lambda c: (c.asynchronous, c.target.name, c.message.name))

    def inbound(self, services: list[Resource]) -> list[Call]:
        ids = {s.id for s in services}
        return [
            call
            for other in self.catalog.of_kind("service")
            if other.id not in ids
            for call in self.calls(other)
            if call.target.id in ids
        ]

    def subject(self, event: Resource) -> str:
        proto = self.contracts.types[event.proto].proto
        assert isinstance(proto, descriptor_pb2.DescriptorProto)  # an event is a message
        return proto.options.Extensions[events.event].subject

    def context_name(self, service: Resource) -> str:
        """The CLI name of a gRPC service's context (`reservations`), or its catalog name."""
        ctx = next((c for c in self.contexts if c.service.id == service.id), None)
        if ctx:
            return ctx.spec.name
        return context_of(service.proto) if service.proto else service.name
