"""Per RPC, the calls its handler makes, read from the code (AST, nothing imported): the servicer's
method (and its own helper methods), the context functions it calls (followed through their module's own
functions), and in them `deps.<port>.<method>(…)` (another service or a local port), `uow.<repo>.<method>(…)`
(the database) and `events.<builder>(…)` (an event for the outbox). Drawn as a Mermaid sequence diagram."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

PORT_ROOTS = {"deps", "ports", "uow"}


@dataclass
class Steps:
    calls: list[tuple[str, str]] = field(default_factory=list)  # (port, method); port "uow" is the database
    events: list[str] = field(default_factory=list)  # event message names (ReservationCreated)


def _functions(path: Path) -> dict[str, ast.AST]:
    if not path.exists():
        return {}
    tree = ast.parse(path.read_text())
    found: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.setdefault(node.name, node)
    return found


def _root(node: ast.expr) -> str:
    """`deps.guests` -> deps, `self.deps.guests` -> deps, `uow.reservations` -> uow."""
    while isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        node = node.value if node.value.attr not in PORT_ROOTS else ast.Name(node.value.attr)
    return node.value.id if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else ""


class Sequences:
    def __init__(self, root: Path, package: str) -> None:
        self.dir = root / "services" / package
        self.modules = {p.stem: _functions(p) for p in sorted(self.dir.glob("*.py"))}
        self.builders = self._event_builders()

    def _event_builders(self) -> dict[str, str]:
        """events.py function -> the event message it builds (its return annotation)."""
        out = {}
        for name, fn in self.modules.get("events", {}).items():
            returns = getattr(fn, "returns", None)
            if isinstance(returns, ast.Attribute):
                out[name] = returns.attr
        return out

    def steps(self, rpc: str) -> Steps:
        method = self.modules.get("servicer", {}).get(rpc)
        steps, seen = Steps(), set[tuple[str, str]]()
        if method is not None:
            self._walk("servicer", method, steps, seen)
        return steps

    def _walk(self, module: str, fn: ast.AST, steps: Steps, seen: set[tuple[str, str]]) -> None:
        calls = sorted((n for n in ast.walk(fn) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
        for node in calls:  # in source order: roughly the order they run in
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and _root(f.value) in PORT_ROOTS:
                port = "uow" if _root(f.value) == "uow" else f.value.attr
                if (port, f.attr) not in steps.calls:
                    steps.calls.append((port, f.attr))
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in self.modules:
                if f.value.id == "events" and f.attr in self.builders:
                    steps.events.append(self.builders[f.attr])
                else:
                    self._follow(f.value.id, f.attr, steps, seen)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
                self._follow(module, f.attr, steps, seen)  # a helper method of the servicer's (`self._create`)
            elif isinstance(f, ast.Name) and module != "servicer":
                self._follow(module, f.id, steps, seen)

    def _follow(self, module: str, name: str, steps: Steps, seen: set[tuple[str, str]]) -> None:
        fn = self.modules.get(module, {}).get(name)
        if fn is not None and (module, name) not in seen:
            seen.add((module, name))
            self._walk(module, fn, steps, seen)


def mermaid(
    service: str, schema: str, verb: str, path: str, rpc: str, steps: Steps, peers: dict, subjects: dict
) -> str:
    """`peers`: port -> the service it calls (another context), else a local component of the service."""
    lines = [
        "sequenceDiagram",
        "    autonumber",
        "    actor C as Client",
        "    participant G as REST gateway",
        f"    participant S as {service}",
    ]
    ports = sorted({p for p, _ in steps.calls if p != "uow"})
    lines += [f"    participant P_{p} as {peers.get(p, f'{p} (port)')}" for p in ports]
    if any(p == "uow" for p, _ in steps.calls):
        lines.append(f"    participant DB as PostgreSQL ({schema})")
    if steps.events:
        lines.append("    participant N as NATS JetStream")
    lines += [f"    C->>G: {verb} {path}", f"    G->>S: {rpc} (gRPC)"]
    for port, method in steps.calls:
        lines.append(f"    S->>{'DB' if port == 'uow' else 'P_' + port}: {method}")
    for event in steps.events:
        lines.append(f"    S-->>N: {subjects.get(event, event)} (outbox)")
    lines.append(f"    S-->>G: {rpc} response")
    lines.append("    G-->>C: JSON")
    return "\n".join(lines)
