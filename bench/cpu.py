"""CPU time each part of the system spends per request, measured around each run: the why behind
a ratio (what a request costs in the services, PostgreSQL, NATS and the load generator)."""

from __future__ import annotations

import psutil

INFRA = {"postgres": "postgres", "nats": "nats-server"}  # group -> process name prefix


def _cpu_s(process: psutil.Process) -> float:
    """Its own CPU time and that of its exited children (a PostgreSQL backend that ends during a run
    is accounted to the postmaster when it is reaped)."""
    try:
        t = process.cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


class CpuMeter:
    """`named`: group name -> pid of our own processes (services, gateway, echo server). PostgreSQL
    and NATS are found by process name on this host, so on a shared host they count others' work."""

    def __init__(self, named: dict[str, int]) -> None:
        self.named = {group: psutil.Process(pid) for group, pid in named.items()}
        for group, process in list(self.named.items()):  # a service's workers (serve --processes)
            for i, worker in enumerate(process.children(), 1):
                self.named[f"{group}/{i}"] = worker

    def snapshot(self) -> dict[tuple[str, int], float]:
        """CPU seconds so far, per (group, pid): a process born during a run counts from zero."""
        seen = {(group, p.pid): _cpu_s(p) for group, p in self.named.items()}
        for p in psutil.process_iter(["name"]):
            name = p.info["name"] or ""
            for group, prefix in INFRA.items():
                if name.startswith(prefix):
                    seen[(group, p.pid)] = _cpu_s(p)
        return seen

    @staticmethod
    def machine_busy_s() -> float:
        """CPU seconds the whole machine was busy so far (every core, everyone's processes)."""
        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    @staticmethod
    def cores(before: dict, after: dict, wall_s: float) -> dict[str, float]:
        """Cores each group kept busy on average over `wall_s` seconds."""
        spent: dict[str, float] = {}
        for (group, pid), seconds in after.items():
            spent[group] = spent.get(group, 0.0) + max(0.0, seconds - before.get((group, pid), 0.0))
        return {group: round(s / wall_s, 3) for group, s in spent.items() if wall_s and s > 0.0005}

    @staticmethod
    def per_request_ms(before: dict, after: dict, requests: int) -> dict[str, float]:
        spent: dict[str, float] = {}
        for (group, pid), seconds in after.items():
            spent[group] = spent.get(group, 0.0) + max(0.0, seconds - before.get((group, pid), 0.0))
        for (group, pid), seconds in before.items():
            if (group, pid) not in after:  # exited: its whole time reappears in its parent's children time
                spent[group] = spent.get(group, 0.0) - seconds
        return {group: round(1000 * s / requests, 3) for group, s in spent.items() if requests and s > 0.0005}
