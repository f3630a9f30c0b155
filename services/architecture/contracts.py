"""Catalog resources from the contracts' options: services, their RPCs (commands and queries), events
and entities, each with owner, domain, system, version (the proto package's) and summary (its comment)."""

from __future__ import annotations

import hashlib
import re

from novatrek.architecture.v1 import options_pb2 as arch

from services.architecture.descriptors import FILE_SERVICE, KINDS, SERVICE_METHOD, Contracts
from services.architecture.model import Relation, Resource, slug


def version_of(package: str) -> str:
    """`novatrek.orders.v1` -> "1.0.0": a package's major version, as EventCatalog's semver."""
    found = re.search(r"\.v(\d+)", package)
    return f"{found.group(1) if found else 0}.0.0"


def context_of(package: str) -> str:
    """`novatrek.orders.v1` -> "orders": the services/<context>/ that implements the package."""
    return package.split(".")[1]


def proto_resources(c: Contracts, problems: list[str]) -> tuple[list[Resource], list[Relation]]:
    resources, relations, used_requests = [], [], set()
    for f in c.own_files():
        own = f.options.Extensions[arch.ownership]
        if not f.options.HasExtension(arch.ownership):
            problems.append(f"{f.name}: no (novatrek.architecture.v1.ownership) option")
        base = {"owner": own.owner, "domain": own.domain, "system": own.system, "version": version_of(f.package)}
        for i, svc in enumerate(f.service):
            full = f"{f.package}.{svc.name}"
            if not svc.options.HasExtension(arch.service):
                problems.append(f"service {full}: no (novatrek.architecture.v1.service) option")
                continue
            opt = svc.options.Extensions[arch.service]
            service = Resource(
                slug(opt.name),
                opt.name,
                "service",
                summary=c.comments.get((f.name, (FILE_SERVICE, i)), ""),
                proto=full,
                **_override(base, opt),
            )
            service.fingerprint = hashlib.sha256(svc.SerializeToString(deterministic=True)).hexdigest()[:16]
            resources.append(service)
            for j, m in enumerate(svc.method):
                request = m.input_type.lstrip(".")
                used_requests.add(request)
                rpc = _rpc(c, f.name, (FILE_SERVICE, i, SERVICE_METHOD, j), m, request, base, problems, full)
                if rpc:
                    resources.append(rpc)
                    relations.append(Relation(service.id, "receives", rpc.id, (f.name,)))
    for name, t in sorted(c.types.items()):
        res = t.resource()
        kind = KINDS.get(res.kind) if res else None
        if t.is_event() and kind != "event":
            problems.append(f"event {name}: not classified (kind KIND_EVENT)")
        if kind in ("command", "query") and name not in used_requests:
            problems.append(f"{name}: a {kind} that no RPC takes")
        if res and kind in ("event", "entity"):
            f = t.file
            own = f.options.Extensions[arch.ownership]
            base = {"owner": own.owner, "domain": own.domain, "system": own.system, "version": version_of(f.package)}
            schema = c.closure([name])
            resources.append(
                Resource(
                    slug(res.name),
                    res.name,
                    kind,
                    summary=t.comment,
                    proto=name,
                    schema=schema,
                    fingerprint=c.fingerprint([name]),
                    **_override(base, res),
                )
            )
    return resources, relations


def _rpc(c: Contracts, file: str, path, m, request: str, base: dict, problems: list[str], service: str):
    req = c.types.get(request)
    res = (
        m.options.Extensions[arch.method] if m.options.HasExtension(arch.method) else (req.resource() if req else None)
    )
    kind = KINDS.get(res.kind) if res else None
    if res is None or kind not in ("command", "query"):
        problems.append(f"rpc {service}.{m.name}: request {request} not classified (KIND_COMMAND or KIND_QUERY)")
        return None
    schema = [request, m.output_type.lstrip(".")]
    summary = c.comments.get((file, path), "") or (req.comment if req else "")
    return Resource(
        slug(res.name),
        res.name,
        kind,
        summary=summary,
        proto=f"{service}.{m.name}",
        schema=c.closure(schema),
        fingerprint=c.fingerprint(schema, f"{service}.{m.name}"),
        **_override(base, res),
    )


def _override(base: dict, opt) -> dict:
    return {**base, "owner": opt.owner or base["owner"], "system": opt.system or base["system"]}
