"""`novatrek contracts`: the image of the released contracts and the check against it.

`protos/released.binpb` is `buf build protos` of the contracts as released: the test suite runs
`buf breaking` (rules FILE, buf.yaml) of protos/ against it, so a change that breaks a client
fails CI with buf's message. Releasing (`novatrek contracts release`) rewrites the image and is
committed on purpose, with the proto change that it accepts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from services.cli.gen import ROOT

IMAGE = Path("protos") / "released.binpb"


def buf() -> str:
    found = shutil.which("buf", path=str(Path(sys.executable).parent)) or shutil.which("buf")
    if not found:
        raise SystemExit("buf not installed (pip install buf-bin)")
    return found


def _buf(*args: str, root: Path) -> subprocess.CompletedProcess:
    # `protos` as the input: the module alone (third_party resolves its imports), one image to compare
    return subprocess.run([buf(), *args], cwd=root, capture_output=True, text=True, timeout=120)


def breaking(root: Path = ROOT) -> subprocess.CompletedProcess:
    """`buf breaking` of root's protos/ against root's released image; returncode 0 when compatible."""
    return _buf("breaking", "protos", "--against", str(IMAGE), root=root)


def release(root: Path = ROOT) -> subprocess.CompletedProcess:
    """Rewrites the released image from protos/ (no source info: the image is compared, not read)."""
    return _buf("build", "protos", "--exclude-source-info", "-o", str(IMAGE), root=root)


def run(command: str) -> int:
    result = {"check": breaking, "release": release}[command]()
    if output := (result.stdout + result.stderr).strip():
        print(output, file=sys.stderr if result.returncode else sys.stdout)
    if result.returncode == 0:
        done = f"released {IMAGE}: commit it" if command == "release" else f"protos/ is compatible with {IMAGE}"
        print(done)
    return result.returncode
