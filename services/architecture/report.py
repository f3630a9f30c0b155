"""A review as JSON or as Markdown (a pull request comment). Sorted, no timestamps: byte-identical
for the same inputs."""

from __future__ import annotations

import json

from services.architecture.model import Catalog
from services.architecture.review import Review


def to_json(r: Review, catalog: Catalog, data: dict) -> dict:
    def name(rid: str) -> str:
        res = catalog.resources.get(rid)
        return res.name if res else rid

    return {
        "base": r.base,
        "head": r.head,
        "files": r.files,
        "docs_only": bool(r.files) and r.docs == r.files,
        "docs": r.docs,
        "categories": [
            {"id": c, "title": data["categories"][c]["title"], "reasons": why}
            for c, why in sorted(r.categories.items())
        ],
        "resources": [
            {
                "id": rid,
                "name": name(rid),
                "kind": _kind(catalog, rid),
                "owner": _owner(catalog, rid),
                "why": sorted(why),
            }
            for rid, why in sorted(r.resources.items())
        ],
        "teams": [{"id": t, "why": sorted(why)} for t, why in sorted(r.teams.items())],
        "breaking": {"breaking": bool(r.breaking), "findings": r.breaking},
        "guidance": [{"id": g, "say": say} for g, say in sorted(r.guidance.items())],
        "problems": r.problems,
    }


def _kind(catalog: Catalog, rid: str) -> str:
    res = catalog.resources.get(rid)
    return res.kind if res else "removed"


def _owner(catalog: Catalog, rid: str) -> str:
    res = catalog.resources.get(rid)
    return res.owner if res else ""


def to_text(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


def to_markdown(report: dict) -> str:
    out = [f"## Architecture review: `{report['base']}`..`{report['head']}`", ""]
    if not report["files"]:
        return "\n".join([*out, "No changes.", ""])
    if report["docs_only"]:
        out += ["Docs only: nothing to review but the docs.", "", *[f"- `{f}`" for f in report["docs"]], ""]
        return "\n".join(out)
    cats = ", ".join(c["title"] for c in report["categories"]) or "none"
    teams = ", ".join(f"`{t['id']}`" for t in report["teams"]) or "none"
    verdict = "**breaking** (buf)" if report["breaking"]["breaking"] else "compatible (buf)"
    out += [f"**Touches:** {cats}", f"**Review by:** {teams}", f"**Contracts:** {verdict}", ""]
    out += ["### Categories", ""] + [f"- **{c['title']}**: {'; '.join(c['reasons'])}" for c in report["categories"]]
    out += ["", "### Affected resources", "", "| resource | kind | owner | why |", "|---|---|---|---|"]
    out += [
        f"| {r['name']} (`{r['id']}`) | {r['kind']} | {r['owner']} | {'; '.join(r['why'])} |"
        for r in report["resources"]
    ]
    out += ["", "### Teams", ""] + [f"- `{t['id']}`: {'; '.join(t['why'])}" for t in report["teams"]]
    if report["breaking"]["findings"]:
        out += ["", "### buf breaking", "", "```", *report["breaking"]["findings"], "```"]
    if report["guidance"]:
        out += ["", "### Operating guidance not followed", ""] + [f"- {g['say']}" for g in report["guidance"]]
    if report["problems"]:
        out += ["", "### New catalog problems", ""] + [f"- {p}" for p in report["problems"]]
    if report["docs"]:
        out += ["", "### Docs changed", ""] + [f"- `{f}`" for f in report["docs"]]
    return "\n".join(out) + "\n"
