"""Relations found in a context's code (AST, nothing imported): the events its outbox publishes (event
messages built outside consumers.py), the events it consumes (`Subscription(Event, …)` in
consumers.py), the RPCs it calls (the typed clients main.py wires, and which of their methods the
context uses), and the steps of a saga (`Step("name", …)` in order)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ContextCode:
    publishes: dict[str, set[str]] = field(default_factory=dict)  # event full name -> files building it
    consumes: set[str] = field(default_factory=set)
    calls: dict[str, set[str]] = field(default_factory=dict)  # "pkg.Service.Method" -> files using it


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted origin (`from novatrek.x.v1 import events_pb2 as pb`: pb -> novatrek.x.v1.events_pb2)."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                found[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                found[a.asname or a.name] = a.name
    return found


def _message_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """`pb.OrderCreated` (pb a *_pb2 module) -> novatrek.orders.v1.OrderCreated."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        module = aliases.get(node.value.id, "")
        if module.endswith("_pb2"):
            return f"{module.rsplit('.', 1)[0]}.{node.attr}"
    if isinstance(node, ast.Name) and (origin := aliases.get(node.id, "")).split(".")[-2:-1] != []:
        module, _, name = origin.rpartition(".")
        if module.endswith("_pb2"):
            return f"{module.rsplit('.', 1)[0]}.{name}"
    return None


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def analyse(root: Path, context: str, events: set[str]) -> ContextCode:
    code = ContextCode()
    package = root / "services" / context
    for path in sorted(package.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        rel, tree = path.relative_to(root).as_posix(), _parse(path)
        aliases = _aliases(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _message_name(node.func, aliases)
            if path.name == "consumers.py":
                if isinstance(node.func, ast.Name) and node.func.id == "Subscription" and node.args:
                    consumed = _message_name(node.args[0], aliases)
                    code.consumes |= {consumed} if consumed in events else set()
            elif name in events:
                code.publishes.setdefault(name, set()).add(rel)
    for rpc, files in _client_calls(root, package).items():
        code.calls[rpc] = files
    return code


def _client_calls(root: Path, package: Path) -> dict[str, set[str]]:
    """The RPCs of the typed clients main.py wires that the context's code calls, with where."""
    main = package / "main.py"
    wired = {a: o for a, o in _aliases(_parse(main)).items() if o.startswith("clients.")} if main.exists() else {}
    used: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                used.setdefault(node.func.attr, set()).add(rel)
    calls: dict[str, set[str]] = {}
    for origin in sorted(set(wired.values())):
        module, _, cls = origin.rpartition(".")
        service, methods = _client_class(root / Path(*module.split(".")).with_suffix(".py"), cls)
        for method, rpcs in methods.items():
            for rpc in rpcs if method in used else ():
                calls.setdefault(f"{service}.{rpc}", set()).update(used[method])
    return calls


def _client_class(path: Path, cls: str) -> tuple[str, dict[str, set[str]]]:
    """A typed client: its service's full name and, per method, the RPCs it calls (`self.stub.X`,
    through its other methods too)."""
    tree = _parse(path)
    aliases, service, direct, inner = _aliases(tree), "", {}, {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SERVICE" for t in node.targets):
            sub = next(n for n in ast.walk(node) if isinstance(n, ast.Subscript))
            module = aliases[next(n.id for n in ast.walk(sub) if isinstance(n, ast.Name))]
            service = f"{module.rsplit('.', 1)[0]}.{ast.literal_eval(sub.slice)}"
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for fn in (n for n in node.body if isinstance(n, ast.AsyncFunctionDef | ast.FunctionDef)):
                attrs = [n for n in ast.walk(fn) if isinstance(n, ast.Attribute)]
                direct[fn.name] = {a.attr for a in attrs if _is_self(a.value, "stub")}
                inner[fn.name] = {a.attr for a in attrs if isinstance(a.value, ast.Name) and a.value.id == "self"}
    methods = {}
    for name in direct:
        todo, seen = [name], set()
        while todo:
            if (m := todo.pop()) in direct and m not in seen:
                seen.add(m)
                todo.extend(inner[m])
        methods[name] = set().union(*(direct[m] for m in seen))
    return service, methods


def _is_self(node: ast.expr, attr: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def saga_steps(root: Path, rel: str) -> list[str]:
    """`Step("name", …)` calls of a saga's module, in source order."""
    path = root / rel
    if not path.exists():
        return []
    steps = [
        (n.lineno, n.col_offset, n.args[0].value)
        for n in ast.walk(_parse(path))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "Step"
        if n.args and isinstance(n.args[0], ast.Constant)
    ]
    return [str(name) for _, _, name in sorted(steps)]
