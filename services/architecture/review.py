"""`novatrek architecture review`: what a change between two refs touches — the categories of
architecture/catalog.toml, the affected resources (changed ones, the services on either side of a
changed command or event, the flows with a changed step), the teams to ask, buf's verdict and the
operating guidance the change did not follow. Sorted everywhere: the same refs give the same report."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from services.architecture import trees
from services.architecture.build import load_data
from services.architecture.changes import Changes, compare
from services.architecture.model import Catalog, slug

DOCS = ("docs/**", "*.md")


@dataclass
class Review:
    base: str
    head: str
    files: list[str]
    docs: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)  # id -> reasons
    resources: dict[str, set[str]] = field(default_factory=dict)  # id -> why
    teams: dict[str, set[str]] = field(default_factory=dict)  # id -> why
    breaking: list[str] = field(default_factory=list)
    guidance: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def affect(self, rid: str, why: str) -> None:
        self.resources.setdefault(rid, set()).add(why)


def review(repo: Path, base: str, head: str = "HEAD") -> tuple[Review, Catalog, dict]:
    files = trees.changed_files(repo, base, head)
    base_tree, head_tree = trees.tree(repo, base), trees.tree(repo, head)
    old, new = trees.catalog(base_tree), trees.catalog(head_tree)
    changes, catalog, data = compare(files, old, new), new[0], load_data(head_tree)
    docs = [f for f in files if any(fnmatch.fnmatchcase(f, p) for p in DOCS)]
    r = Review(base, head, files, docs, problems=changes.problems)
    for rid, status in changes.resources.items():
        r.affect(rid, status)
    _categories(r, changes, catalog, data)
    _parties(r, catalog, changes)
    _teams(r, catalog, old[0])
    r.breaking = trees.breaking(base_tree, head_tree) if any(f.startswith("protos/") for f in files) else []
    _guidance(r, changes, catalog, data)
    return r, catalog, data


def _categories(r: Review, ch: Changes, catalog: Catalog, data: dict) -> None:
    changed = {rid: catalog.resources.get(rid) for rid in ch.resources}
    for cid, cat in sorted(data.get("categories", {}).items()):
        names = {slug(n) for n in cat.get("resources", [])}
        reasons = [f"{rid} {ch.resources[rid]}" for rid in sorted(names & changed.keys())]
        reasons += [
            f"{rid} {ch.resources[rid]}"
            for rid, res in changed.items()
            if res and res.kind in cat.get("kinds", []) and rid not in names
        ]
        reasons += [f"{t} changed" for t in ch.types if t in cat.get("types", [])]
        reasons += [f"{f} changed" for f in ch.files if any(fnmatch.fnmatchcase(f, p) for p in cat.get("paths", []))]
        if pattern := cat.get("fields"):
            reasons += [
                f"field {fc.type}.{fc.name} {fc.change}"
                for fc in ch.fields
                if fc.type in cat.get("field_types", []) and re.search(pattern, fc.name)
            ]
            for fc in ch.fields:
                for regex, system in sorted(cat.get("systems", {}).items()):
                    if fc.type in cat.get("field_types", []) and re.search(regex, fc.name):
                        r.affect(slug(system), f"owns the state of field {fc.type}.{fc.name} ({fc.change})")
        if reasons:
            r.categories[cid] = sorted(set(reasons))


def _parties(r: Review, catalog: Catalog, ch: Changes) -> None:
    """The services on either side of a changed message, and the flows with a changed step."""
    for rid in sorted(ch.resources):
        res = catalog.resources.get(rid)
        if res and res.kind in ("command", "query", "event"):
            for verb in ("receives", "sends"):
                for party in catalog.related(rid, verb):
                    r.affect(party, f"{verb} {rid}")
    for flow, steps in sorted(catalog.flows.items()):
        for step in steps:
            for rid in {step.resource, step.compensation} & ch.resources.keys():
                r.affect(flow, f"has step {rid}")
        if any(p.startswith(f"flow {catalog.resources[flow].name}:") for p in r.problems):
            r.affect(flow, "its steps differ from the code")


def _teams(r: Review, catalog: Catalog, base: Catalog) -> None:
    for rid in r.resources:
        res = catalog.resources.get(rid) or base.resources.get(rid)
        if res and res.owner:
            r.teams.setdefault(res.owner, set()).add(f"owns {rid}")


def _guidance(r: Review, ch: Changes, catalog: Catalog, data: dict) -> None:
    for gid, g in sorted(data.get("guidance", {}).items()):
        if g["rule"] == "update" and r.categories.keys() & set(g["when"]):
            expected = [slug(n) for n in g["expect"]]
            pages = {p for rid in expected if rid in catalog.resources for p in catalog.resources[rid].paths}
            if not (set(expected) & ch.resources.keys()) and not (pages & set(ch.files)):
                r.guidance[gid] = g["say"]
        elif g["rule"] == "snapshot":
            bad = [
                fc
                for fc in ch.fields
                if fc.change == "added"
                and fc.type in g["field_types"]
                and re.search(g["fields"], fc.name)
                and "snapshot" not in fc.comment.lower()
            ]
            if bad:
                r.guidance[gid] = g["say"] + " Fields: " + ", ".join(f"{fc.type}.{fc.name}" for fc in bad) + "."
