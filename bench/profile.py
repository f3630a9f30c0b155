"""`--profile NAME …`: py-spy flame graphs of chosen processes (services, gateway, echo) while each
target runs at the highest concurrency, written as `<target>-c<N>-<process>.svg`."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path


class Profiler:
    def __init__(self, pids: dict[str, int], names: list[str], out_dir: Path, fmt: str = "flamegraph") -> None:
        unknown = sorted(set(names) - set(pids))
        if unknown:
            raise SystemExit(
                f"--profile: no process named {', '.join(unknown)} (choose from {', '.join(sorted(pids))})"
            )
        self.pids, self.names, self.out_dir = pids, names, out_dir
        self.fmt, self.suffix = fmt, ".svg" if fmt == "flamegraph" else ".txt"
        self.exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        out_dir.mkdir(parents=True, exist_ok=True)

    def start(self, label: str, seconds: float) -> list[subprocess.Popen]:
        """Samples for `seconds` without pausing the processes (py-spy skips idle threads, so time
        spent waiting for the load process to start does not show)."""
        return [
            subprocess.Popen(
                [
                    self.exe,
                    "record",
                    "--nonblocking",
                    "-r",
                    "100",
                    "-d",
                    str(math.ceil(seconds)),
                    "-p",
                    str(self.pids[name]),
                    "--format",
                    self.fmt,
                    "-o",
                    str(self.out_dir / f"{label}-{name}{self.suffix}"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for name in self.names
        ]

    @staticmethod
    def finish(recorders: list[subprocess.Popen]) -> None:
        for recorder in recorders:
            _, err = recorder.communicate(timeout=120)
            if recorder.returncode:
                print(f"  py-spy failed: {err.decode(errors='replace').strip()[-300:]}", file=sys.stderr)
