"""`novatrek up`'s supervision: the crash policy with an injected clock, and the supervisor with tiny
child processes (a few lines of Python each) that crash, come back, or never get ready."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from services.cli.children import Child, launch, rotate_log, stop_children
from services.cli.registry import ServiceSpec
from services.cli.supervisor import CrashPolicy, Supervisor, how_it_ended

# argv: marker file, ready file. The first run (no marker yet) dies as told; later runs get ready and stay.
TINY = """
import os, pathlib, signal, sys, time
marker, ready, behaviour = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
print("starting", flush=True)
if behaviour != "live" and not marker.exists() or behaviour == "always-exit":
    marker.touch()
    print("about to die", flush=True)
    os.kill(os.getpid(), signal.SIGKILL) if behaviour == "kill" else sys.exit(3)
if behaviour != "never-ready":
    ready.touch()
time.sleep(600)
"""


class TinyChild(Child):
    """Ready once its process has written its ready file: the stand-in for gRPC health."""

    def ready(self) -> bool:
        return self.log_path.with_suffix(".ready").exists()


@pytest.fixture
def tiny(tmp_path):
    made: list[Child] = []

    def make(name: str, behaviour: str) -> TinyChild:
        log = tmp_path / f"{name}.log"
        argv = [sys.executable, "-c", TINY, str(log.with_suffix(".marker")), str(log.with_suffix(".ready")), behaviour]
        child = TinyChild(ServiceSpec(name, name, "", "", "", 0, ""), name, log, launch(argv, os.environ, log), argv)
        made.append(child)
        return child

    yield make
    stop_children(made, grace_s=5)


def supervise(children, report, **policy) -> Supervisor:
    return Supervisor(children, CrashPolicy(first_backoff_s=0.01, **policy), startup_timeout_s=10, report=report)


def step_until(supervisor: Supervisor, done, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert supervisor.step() is None, "gave up"
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_backoff_doubles_per_crash_up_to_a_cap_and_the_fifth_crash_in_the_window_gives_up():
    policy = CrashPolicy(max_crashes=5, window_s=60, first_backoff_s=0.5, max_backoff_s=1.5)
    assert [policy.crashed("payments", t) for t in (0, 1, 2, 3)] == [0.5, 1.0, 1.5, 1.5]
    assert policy.crashed("trip-catalog", 4) == 0.5  # counted per child
    assert policy.crashed("payments", 59.9) is None


def test_crashes_spread_wider_than_the_window_never_give_up():
    policy = CrashPolicy(max_crashes=3, window_s=60, first_backoff_s=0.5, max_backoff_s=8)
    delays = [policy.crashed("payments", 31.0 * n) for n in range(20)]
    assert None not in delays and delays[-1] == 1.0  # two crashes within any 60 s


def test_exit_codes_and_signals_read_as_words():
    assert (how_it_ended(3), how_it_ended(-9), how_it_ended(-15)) == (
        "exit code 3",
        "killed by SIGKILL",
        "killed by SIGTERM",
    )


def test_a_killed_child_is_restarted_reported_back_and_its_first_log_kept(tiny):
    flaky, steady, said = tiny("flaky", "kill"), tiny("steady", "live"), []
    steady_pid = steady.process.pid
    supervisor = supervise([flaky, steady], said.append)
    step_until(supervisor, lambda: any("flaky is back" in s for s in said))
    text = "\n".join(said)
    assert "flaky crashed (killed by SIGKILL)" in text and "restarting flaky in 0.01 s (crash 1 within 60 s" in text
    assert "about to die" in text  # the crash report quotes the end of its log
    assert flaky.process.poll() is None and steady.process.pid == steady_pid and "steady" not in text
    log = flaky.log_path.read_text().splitlines()
    assert log[:2] == ["starting", "about to die"] and log[-1] == "starting"
    assert json.loads(log[2])["msg"] == "restarted by novatrek up after it crashed (killed by SIGKILL)"


def test_a_child_that_keeps_crashing_makes_it_give_up_while_the_others_keep_running(tiny):
    crasher, steady, said = tiny("crasher", "always-exit"), tiny("steady", "live"), []
    started = time.monotonic()
    assert supervise([crasher, steady], said.append, max_crashes=3).run(interval_s=0.01) is crasher
    assert time.monotonic() - started < 10
    assert sum("crasher crashed (exit code 3)" in s for s in said) == 3
    assert sum(s.split(" ", 1)[1].startswith("restarting crasher") for s in said) == 2
    assert "giving up: crasher crashed 3 times within 60 s" in said[-1] and "stopping the mesh" in said[-1]
    assert steady.process.poll() is None


def test_a_restarted_child_that_never_gets_ready_counts_as_a_crash(tiny):
    stuck, said = tiny("stuck", "never-ready"), []
    supervisor = Supervisor([stuck], CrashPolicy(max_crashes=2, first_backoff_s=0.01), 0.3, said.append)
    assert supervisor.run(interval_s=0.01) is stuck
    assert "stuck crashed (exit code 3)" in said[0] and any("stuck crashed (not ready within 0.3 s)" in s for s in said)
    assert stuck.process.poll() is not None  # killed, not left behind


def test_logs_of_earlier_runs_are_kept_three_generations_deep(tmp_path):
    log = tmp_path / "payments.log"
    for run in range(5):
        rotate_log(log)
        log.write_text(f"run {run}")
    assert [log.read_text(), *(log.with_name(f"payments.log.{n}").read_text() for n in (1, 2, 3))] == [
        "run 4",
        "run 3",
        "run 2",
        "run 1",
    ]
    assert not log.with_name("payments.log.4").exists()
