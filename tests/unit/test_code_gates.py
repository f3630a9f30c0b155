"""The code's own gates, run like `buf lint` is: ruff's lint and format rules and mypy (pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

from services.cli.gen import ROOT


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} not installed (pip install -e '.[dev]')"
    return found


def test_ruff_lint_is_clean():
    result = subprocess.run([_tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, "run `ruff format .`\n" + result.stdout + result.stderr


def test_mypy_is_clean():
    # Incremental: the cache (.mypy_cache, git-ignored) makes a rerun take seconds, not a minute.
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "mypy (config in pyproject.toml):\n" + result.stdout + result.stderr
