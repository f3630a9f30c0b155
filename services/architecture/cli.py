"""`novatrek architecture build | export-eventcatalog | review`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from services.architecture import report
from services.architecture.build import build
from services.cli.gen import ROOT


def cmd_build(json_out: Path, html_out: Path | None, root: Path = ROOT) -> int:
    catalog, _ = build(root)
    json_out.write_text(json.dumps(catalog.to_json(), indent=2, sort_keys=True) + "\n")
    if html_out:
        from services.architecture.html import page

        html_out.write_text(page(catalog))
    for problem in sorted(catalog.problems):
        print(f"problem: {problem}", file=sys.stderr)
    print(f"catalog: {len(catalog.resources)} resources, {len(catalog.relations)} relations -> {json_out}")
    return 1 if catalog.problems else 0


def cmd_export(dest: Path, root: Path = ROOT) -> int:
    from services.architecture.eventcatalog import export

    catalog, contracts = build(root)
    count = export(catalog, contracts, dest)
    print(f"EventCatalog project: {count} files in {dest}")
    return 0


def cmd_review(repo: Path, base: str, head: str, as_json: bool) -> int:
    from services.architecture.review import review

    found = report.to_json(*review(repo, base, head))
    sys.stdout.write(report.to_text(found) if as_json else report.to_markdown(found))
    return 0
