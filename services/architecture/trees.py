"""Git refs as source trees: each ref's tracked files extracted once (`git archive`) into a temporary
directory, its catalog built once per tree, and `buf breaking` between two trees' contracts."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

from services.architecture.build import build
from services.architecture.descriptors import Contracts
from services.architecture.model import Catalog
from services.cli.contracts import buf

_TREES: dict[tuple[str, str], Path] = {}
_CATALOGS: dict[Path, tuple[Catalog, Contracts]] = {}
_WORK = Path(tempfile.mkdtemp(prefix="novatrek-architecture-"))
atexit.register(shutil.rmtree, _WORK, True)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def changed_files(repo: Path, base: str, head: str) -> list[str]:
    return sorted(filter(None, git(repo, "diff", "--name-only", "--no-renames", base, head).splitlines()))


def tree(repo: Path, ref: str) -> Path:
    """The ref's tracked files in a directory (shared by every ref with the same tree)."""
    key = (str(repo.resolve()), git(repo, "rev-parse", f"{ref}^{{tree}}").strip())
    if key not in _TREES:
        dest = _WORK / key[1]
        dest.mkdir()
        archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=repo, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        _TREES[key] = dest
    return _TREES[key]


def catalog(root: Path) -> tuple[Catalog, Contracts]:
    if root not in _CATALOGS:
        _CATALOGS[root] = build(root)
    return _CATALOGS[root]


def breaking(base: Path, head: Path) -> list[str]:
    """buf's findings of head's protos/ against base's (rules of head's buf.yaml); [] when compatible."""
    image = base / ".base-image.binpb"
    if not image.exists():
        _buf(base, "build", "protos", "--exclude-source-info", "-o", str(image))
    result = subprocess.run(
        [buf(), "breaking", "protos", "--against", str(image)], cwd=head, capture_output=True, text=True, timeout=120
    )
    if result.returncode not in (0, 100):  # 100: breaking changes found
        raise SystemExit(f"buf breaking: {result.stderr.strip() or result.stdout.strip()}")
    return sorted(line for line in result.stdout.splitlines() if line.strip())


def _buf(cwd: Path, *args: str) -> None:
    result = subprocess.run([buf(), *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"buf {args[0]}: {result.stderr.strip()}")
