"""`novatrek portal build DIR [--html]` and `novatrek portal serve [DIR]`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.cli.gen import ROOT


def mkdocs(dest: Path, *args: str) -> int:
    """MkDocs of the same environment (the dev extra), on the project in `dest`."""
    return subprocess.call([sys.executable, "-m", "mkdocs", *args, "-f", str(dest / "mkdocs.yml")])


def cmd_build(dest: Path, html: bool, root: Path = ROOT) -> int:
    from services.portal.site import build_site

    pages = build_site(root, dest)
    print(f"portal: {pages} pages -> {dest / 'docs'} (mkdocs.yml in {dest})")
    if html:  # the static site CI publishes: any broken link or page fails it
        return mkdocs(dest, "build", "--strict", "--site-dir", str((dest / "site").resolve()))
    return 0


def cmd_serve(dest: Path, address: str, root: Path = ROOT) -> int:
    """Builds the project, then becomes `mkdocs serve` on `address` (Ctrl-C or a signal stops it, no
    child left behind). Rebuild with `portal build` to see a change of the code; mkdocs reloads it."""
    if code := cmd_build(dest, html=False, root=root):
        return code
    argv = [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", address, "-f", str(dest / "mkdocs.yml")]
    os.execv(sys.executable, argv)
