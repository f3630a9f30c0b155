"""`novatrek gen`: protos/ -> generated/ (grpcio-tools + mypy-protobuf), and third_party/ for buf.

Third-party protos come from installed packages, never the network: google/{api,rpc,type} from
googleapis-common-protos, google/protobuf from grpcio-tools.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
GENERATED = ROOT / "generated"
THIRD_PARTY = ROOT / "third_party"
GOOGLE_PACKAGES = ("api", "rpc", "type")


def _googleapis_root() -> Path:
    import google.api  # from googleapis-common-protos

    return Path(google.api.__path__[0]).parents[1]


def _wkt_root() -> Path:
    return Path(str(resources.files("grpc_tools") / "_proto"))


def _protoc(out: Path) -> None:
    from grpc_tools import protoc

    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{_googleapis_root()}",
        f"-I{_wkt_root()}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *sources,
    ]
    # mypy-protobuf's plugins live beside the interpreter; protoc looks them up on PATH.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for package in {p.parent for p in out.rglob("*.py")} | {p for p in out.rglob("*") if p.is_dir()}:
        (package / "__init__.py").touch()


def _copy_third_party(dest: Path) -> None:
    for name in GOOGLE_PACKAGES:
        src = _googleapis_root() / "google" / name
        for proto in src.rglob("*.proto"):
            target = dest / "google" / name / proto.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(proto, target)


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def generate(check: bool = False) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out, third = Path(tmp) / "generated", Path(tmp) / "third_party"
        out.mkdir()
        _protoc(out)
        _copy_third_party(third)
        if check:
            stale = [
                p.name
                for p, q in ((GENERATED, out), (THIRD_PARTY, third))
                if not q.exists() or not p.exists() or not _same_tree(p, q)
            ]
            if stale:
                print(f"stale: {', '.join(stale)} — run `novatrek gen` and commit", file=sys.stderr)
                return 1
            print("generated/ and third_party/ are up to date")
            return 0
        for dest, src in ((GENERATED, out), (THIRD_PARTY, third)):
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest)
    print(f"generated {GENERATED.relative_to(ROOT)}/ and {THIRD_PARTY.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(generate(check="--check" in sys.argv))
