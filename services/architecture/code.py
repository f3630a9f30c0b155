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
    clients = {origin.rpartition(".")[2]: origin for origin in wired.values()}
    used: dict[tuple[str | None, str], set[str]] = {}  # (client class or None: any, method) -> files
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for cls, method in _client_uses(_parse(path), clients):
            used.setdefault((cls, method), set()).add(rel)
    calls: dict[str, set[str]] = {}
    for cls, origin in sorted(clients.items()):
        module, _, _ = origin.rpartition(".")
        service, methods = _client_class(root / Path(*module.split(".")).with_suffix(".py"), cls)
        for method, rpcs in methods.items():
            files = used.get((cls, method), set()) | used.get((None, method), set())
            for rpc in rpcs if files else ():
                calls.setdefault(f"{service}.{rpc}", set()).update(files)
    return calls


def _attribute_calls(node: ast.AST) -> list[tuple[ast.Call, ast.Attribute]]:
    return [(n, n.func) for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]


def _client_uses(tree: ast.Module, clients: dict[str, str]) -> set[tuple[str | None, str]]:
    """Calls on clients: `self.<attr>.m(…)` where the class's __init__ takes `<attr>: SomeClient` is
    that client's, and so is `x.guests.m(…)` on a receiver named after a client's module; another call on
    a receiver named like a client (`client.m`) may be any wired client's (None). Other calls
    (`d.get(…)`) are no client's."""
    found: set[tuple[str | None, str]] = set()
    typed_calls: set[int] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        typed = _typed_attributes(cls, clients)
        for call, func in _attribute_calls(cls):
            receiver = func.value
            if isinstance(receiver, ast.Attribute) and _is_self(receiver, receiver.attr) and receiver.attr in typed:
                found.add((typed[receiver.attr], func.attr))
                typed_calls.add(id(call))
    by_stem = {origin.split(".")[-2]: cls for cls, origin in clients.items()}  # clients.guests -> GuestsClient
    for call, func in _attribute_calls(tree):
        receiver = func.value
        name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
        if id(call) in typed_calls:
            continue
        if name in by_stem:  # `p.guests.ensure_eligible(…)`: the port is that client itself
            found.add((by_stem[name], func.attr))
        elif "client" in name.lower():
            found.add((None, func.attr))
    return found


def _typed_attributes(cls: ast.ClassDef, clients: dict[str, str]) -> dict[str, str]:
    """`self.<attr>` -> client class, from an __init__ parameter annotated with a wired client class."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return {}
    params = {a.arg: a.annotation.id for a in init.args.args if isinstance(a.annotation, ast.Name)}
    typed = {}
    for stmt in ast.walk(init):
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id in params:
            client = params[stmt.value.id]
            for target in stmt.targets:
                if isinstance(target, ast.Attribute) and _is_self(target, target.attr) and client in clients:
                    typed[target.attr] = client
    return typed


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
