"""What changed between two catalogs: resources added, removed or changed (fingerprints), proto types
whose definition changed, and the fields (or enum values) added and removed, with their comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.architecture.descriptors import Contracts
from services.architecture.model import Catalog


@dataclass(frozen=True, order=True)
class FieldChange:
    type: str
    name: str
    change: str  # added, removed
    comment: str = ""


@dataclass
class Changes:
    files: list[str]
    resources: dict[str, str] = field(default_factory=dict)  # id -> added, removed, changed
    types: list[str] = field(default_factory=list)
    fields: list[FieldChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # catalog problems the head has and the base had not


def compare(files: list[str], base: tuple[Catalog, Contracts], head: tuple[Catalog, Contracts]) -> Changes:
    (old, old_c), (new, new_c) = base, head
    found = Changes(files)
    for rid in sorted(old.resources.keys() | new.resources.keys()):
        a, b = old.resources.get(rid), new.resources.get(rid)
        if a is None or b is None:
            found.resources[rid] = "added" if a is None else "removed"
        elif a.fingerprint != b.fingerprint:
            found.resources[rid] = "changed"
    own = sorted(n for n in old_c.types.keys() | new_c.types.keys() if n.startswith("novatrek."))
    for name in own:
        ta, tb = old_c.types.get(name), new_c.types.get(name)
        if ta is None or tb is None or old_c.definition(name) != new_c.definition(name):
            found.types.append(name)
            found.fields.extend(_members(name, ta, "removed", tb))
            found.fields.extend(_members(name, tb, "added", ta))
    found.fields.sort()
    found.problems = sorted(set(new.problems) - set(old.problems))
    return found


def _members(name: str, t, change: str, other) -> list[FieldChange]:
    """Fields (or enum values) of t that `other` lacks."""
    if t is None:
        return []
    members = t.proto.field if t.is_message else t.proto.value
    theirs = {m.name for m in (other.proto.field if other and other.is_message else other.proto.value if other else [])}
    return [
        FieldChange(name, m.name, change, t.field_comments.get(m.name, "")) for m in members if m.name not in theirs
    ]
