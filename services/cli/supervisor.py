"""`novatrek up` as a local supervisor: a child that dies is restarted after a backoff and reported
back once ready, while the others keep serving; repeated crashes of one child stop the mesh."""

from __future__ import annotations

import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.cli.children import Child

TAIL_LINES = 10


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class CrashPolicy:
    """Per child: the backoff before a restart doubles from `first_backoff_s` with each crash within
    `window_s`, up to `max_backoff_s`; the `max_crashes`-th crash within `window_s` gives up."""

    max_crashes: int = 5
    window_s: float = 60.0
    first_backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    _crashes: dict[str, deque[float]] = field(default_factory=dict, repr=False)

    def crashed(self, name: str, now: float) -> float | None:
        """Records a crash of `name` at `now` (seconds): the delay before restarting it, or None to give up."""
        recent = self._crashes.setdefault(name, deque())
        recent.append(now)
        while recent[0] <= now - self.window_s:
            recent.popleft()
        if len(recent) >= self.max_crashes:
            return None
        return min(self.first_backoff_s * 2 ** (len(recent) - 1), self.max_backoff_s)

    def recent(self, name: str) -> int:
        return len(self._crashes.get(name, ()))


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class _Watched:
    child: Child
    state: str = "running"  # running | waiting (to restart at `due`) | starting (ready by `due`)
    due: float = 0.0
    why: str = ""


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        policy: CrashPolicy,
        startup_timeout_s: float,
        report: Callable[[str], None] = warn,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watched = [_Watched(c) for c in children]
        self.policy, self.startup_timeout_s = policy, startup_timeout_s
        self.report, self.clock = report, clock

    def run(self, interval_s: float = 0.2) -> Child:
        """Blocks until it gives up on a child (returns it); a signal interrupts it as it would anything."""
        while (given_up := self.step()) is None:
            time.sleep(interval_s)
        return given_up

    def step(self) -> Child | None:
        """One look at every child: restarts that are due, crashes, restarted children now ready."""
        now = self.clock()
        for w in self.watched:
            if w.state == "waiting":
                if now >= w.due:
                    w.child.restart(f"restarted by novatrek up after it crashed ({w.why})")
                    w.state, w.due = "starting", now + self.startup_timeout_s
            elif (code := w.child.process.poll()) is not None:
                if not self._crashed(w, how_it_ended(code), now):
                    return w.child
            elif w.state == "starting":
                if w.child.ready():
                    w.state = "running"
                    self.report(f"{_stamp()} {w.child.spec.name} is back: ready on {w.child.address}")
                elif now > w.due:
                    w.child.process.kill()
                    w.child.process.wait()
                    if not self._crashed(w, f"not ready within {self.startup_timeout_s:g} s", now):
                        return w.child
        return None

    def _crashed(self, w: _Watched, why: str, now: float) -> bool:
        """Reports the crash and plans the restart; False when the policy gives up."""
        name, p = w.child.spec.name, self.policy
        delay = p.crashed(name, now)
        tail = "\n".join(f"    {line}" for line in w.child.tail(TAIL_LINES).splitlines())
        self.report(f"{_stamp()} {name} crashed ({why}); last lines of {w.child.log_path}:\n{tail}")
        if delay is None:
            self.report(
                f"{_stamp()} giving up: {name} crashed {p.recent(name)} times within {p.window_s:g} s "
                f"(--max-crashes {p.max_crashes}, --crash-window {p.window_s:g}); stopping the mesh"
            )
            return False
        self.report(
            f"{_stamp()} restarting {name} in {delay:g} s "
            f"(crash {p.recent(name)} within {p.window_s:g} s; the mesh stops at {p.max_crashes})"
        )
        w.state, w.due, w.why = "waiting", now + delay, why
        return True


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%SZ")
