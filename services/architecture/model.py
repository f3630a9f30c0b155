"""The catalog's shape: resources (every kind, one id space of slugs), relations, flows and problems."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


def slug(name: str) -> str:
    """A catalog name as an id: "Order Created" -> "order-created" (EventCatalog's ids in seed 003)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Resource:
    id: str
    name: str
    kind: str  # domain, system, service, command, query, event, entity, container, flow, team
    version: str = "1.0.0"
    owner: str = ""
    summary: str = ""
    domain: str = ""
    system: str = ""
    proto: str = ""  # message, service or RPC full name
    schema: list[str] = field(default_factory=list)  # proto types of its schema (commands, queries, events, entities)
    paths: list[str] = field(default_factory=list)  # files that are this resource (services, containers)
    fingerprint: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", [])}


@dataclass(frozen=True, order=True)
class Relation:
    source: str  # resource id
    verb: str  # sends, receives, holds (system -> service/container), contains (domain -> system)
    target: str
    evidence: tuple[str, ...] = ()  # files the relation was found in


@dataclass
class Step:
    id: str
    title: str
    resource: str = ""  # resource id, or "" for an actor
    actor: str = ""
    saga_step: str = ""
    compensation: str = ""  # resource id


@dataclass
class Catalog:
    resources: dict[str, Resource]
    relations: list[Relation]
    flows: dict[str, list[Step]]  # flow id -> steps
    problems: list[str]

    def of_kind(self, *kinds: str) -> list[Resource]:
        return [r for _, r in sorted(self.resources.items()) if r.kind in kinds]

    def related(self, resource_id: str, verb: str) -> list[str]:
        """Who has `verb` with this resource: ("order-created", "receives") -> its consumers."""
        return sorted({r.source for r in self.relations if r.target == resource_id and r.verb == verb})

    def targets(self, resource_id: str, verb: str) -> list[str]:
        return sorted({r.target for r in self.relations if r.source == resource_id and r.verb == verb})

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": [r.to_json() for _, r in sorted(self.resources.items())],
            "relations": [
                {"source": r.source, "verb": r.verb, "target": r.target, "evidence": list(r.evidence)}
                for r in sorted(self.relations)
            ],
            "flows": {
                f: [{k: v for k, v in asdict(s).items() if v} for s in steps] for f, steps in sorted(self.flows.items())
            },
            "problems": sorted(self.problems),
        }
