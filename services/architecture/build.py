"""The whole catalog of a source tree: the contracts' resources, the data file's (teams, domains,
systems, components, containers, flows), and the relations found in the code."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib
from pathlib import Path

from services.architecture import code
from services.architecture.contracts import context_of, proto_resources
from services.architecture.descriptors import Contracts, compile_tree
from services.architecture.model import Catalog, Relation, Resource, Step, slug

DATA = Path("architecture") / "catalog.toml"
CODE_DIRS = ("services", "clients")


def load_data(root: Path) -> dict:
    return tomllib.loads((root / DATA).read_text())


def code_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for d in CODE_DIRS
        for p in (root / d).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def matching(files: list[str], patterns: list[str]) -> list[str]:
    return [f for f in files if any(fnmatch.fnmatchcase(f, p) for p in patterns)]


def digest(root: Path, files: list[str], *extra: bytes) -> str:
    h = hashlib.sha256()
    for part in extra:
        h.update(part)
    for f in files:
        h.update(f.encode() + b"\0" + (root / f).read_bytes())
    return h.hexdigest()[:16]


def _entry_digest(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:16]


def build(root: Path, contracts: Contracts | None = None) -> tuple[Catalog, Contracts]:
    contracts = contracts or compile_tree(root)
    data, problems = load_data(root), list[str]()
    found, relations = proto_resources(contracts, problems)
    catalog = Catalog({}, relations, {}, problems)
    for r in found:
        _add(catalog, r)
    _add_data(catalog, data, root)
    _add_code_relations(catalog, contracts, data, root)
    _add_flows(catalog, data, root)
    return catalog, contracts


def _add(catalog: Catalog, r: Resource) -> None:
    if r.id in catalog.resources:
        catalog.problems.append(f"two resources named {r.name!r} ({catalog.resources[r.id].kind} and {r.kind})")
    catalog.resources[r.id] = r


def _add_data(catalog: Catalog, data: dict, root: Path) -> None:
    files = code_files(root)
    for team, e in data.get("teams", {}).items():
        _add(catalog, Resource(team, e["name"], "team", summary=e.get("summary", ""), fingerprint=_entry_digest(e)))
    for name, e in data.get("domains", {}).items():
        _add(
            catalog,
            Resource(slug(name), name, "domain", owner=e["owner"], summary=e["summary"], fingerprint=_entry_digest(e)),
        )
    for name, e in data.get("systems", {}).items():
        _add(
            catalog,
            Resource(slug(name), name, "system", owner=e["owner"], summary=e["summary"], fingerprint=_entry_digest(e)),
        )
    for name, e in data.get("containers", {}).items():
        paths = matching(files, e["paths"])
        _add(
            catalog,
            Resource(
                slug(name),
                name,
                "container",
                owner=data["systems"][e["system"]]["owner"],
                summary=e["summary"],
                system=e["system"],
                paths=paths,
                fingerprint=digest(root, paths),
            ),
        )
    components = data.get("components", {})
    for name, e in components.items():
        paths = matching(files, e["paths"])
        _add(
            catalog,
            Resource(
                slug(name),
                name,
                "service",
                owner=e["owner"],
                summary=e["summary"],
                system=e["system"],
                paths=paths,
                fingerprint=digest(root, paths),
            ),
        )
    taken = {p for e in components.values() for p in matching(files, e["paths"])}
    for service in catalog.of_kind("service"):
        if service.proto:  # a gRPC service: its context's code (less its components) and its typed client
            ctx = context_of(service.proto)
            paths = [f for f in matching(files, [f"services/{ctx}/**", f"clients/{ctx}.py"]) if f not in taken]
            service.paths, service.fingerprint = paths, digest(root, paths, service.fingerprint.encode())
    domains = {r.system: r.domain for r in catalog.resources.values() if r.domain and r.system}
    for r in catalog.of_kind("service", "container"):
        domain = domains.get(r.system, "")
        r.domain = r.domain or domain
        catalog.relations.append(Relation(slug(r.system), "holds", r.id))
    for system, domain in sorted(domains.items()):
        catalog.relations.append(Relation(slug(domain), "contains", slug(system)))
    for r in catalog.resources.values():
        if r.kind in ("service", "command", "query", "event", "entity", "container") and r.owner not in data["teams"]:
            catalog.problems.append(f"{r.kind} {r.name}: owner {r.owner!r} is not a team of {DATA}")


def _add_code_relations(catalog: Catalog, contracts: Contracts, data: dict, root: Path) -> None:
    by_proto = {r.proto: r.id for r in catalog.resources.values() if r.proto}
    events = {name for name, t in contracts.types.items() if t.is_event()}
    for service in [s for s in catalog.of_kind("service") if s.proto]:
        ctx = context_of(service.proto)
        found = code.analyse(root, ctx, events)
        takers = {t: slug(n) for n, e in data.get("components", {}).items() if e["context"] == ctx for t in e["takes"]}
        for event, files in sorted(found.publishes.items()):
            target = takers.get("publishes", service.id)
            catalog.relations.append(Relation(target, "sends", by_proto[event], tuple(sorted(files))))
        for event in sorted(found.consumes):
            catalog.relations.append(
                Relation(service.id, "receives", by_proto[event], (f"services/{ctx}/consumers.py",))
            )
        for rpc, files in sorted(found.calls.items()):
            if rpc in by_proto:
                target = takers.get("calls", service.id)
                catalog.relations.append(Relation(target, "sends", by_proto[rpc], tuple(sorted(files))))


def _add_flows(catalog: Catalog, data: dict, root: Path) -> None:
    flows = data.get("flows", {})
    for name, e in flows.items():
        flow = Resource(slug(name), name, "flow", owner=e["owner"], summary=e["summary"], fingerprint=_entry_digest(e))
        flow.paths = sorted(e.get("docs", []))  # its pages
        _add(catalog, flow)
    for name, e in flows.items():  # a step may name another flow
        steps: list[Step] = []
        for i, s in enumerate(e["steps"], 1):
            target = slug(s.get("resource", ""))
            if target and target not in catalog.resources:
                catalog.problems.append(f"flow {name}: step {i} names {s['resource']!r}, which is no resource")
            title = s.get("title") or s.get("resource", "")
            compensation = slug(s.get("compensation", ""))
            steps.append(
                Step(f"{i}-{slug(title)}", title, target, s.get("actor", ""), s.get("saga_step", ""), compensation)
            )
        catalog.flows[slug(name)] = steps
        if saga := e.get("saga"):
            in_code, in_flow = code.saga_steps(root, saga), [s.saga_step for s in steps if s.saga_step]
            if in_code != in_flow:
                catalog.problems.append(f"flow {name}: the saga's steps in {saga} are {in_code}, the flow's {in_flow}")
