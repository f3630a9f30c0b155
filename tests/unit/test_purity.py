"""Layer purity: each module is imported in a fresh interpreter with the forbidden packages blocked, so an
import that reaches one of them, directly or through the modules it imports, fails with its chain."""

import subprocess
import sys

import pytest

from services.cli.gen import ROOT

# Installed as the first meta path finder: a blocked import raises ImportError naming the chain of
# services.* modules being imported at the time (each is on the stack while it executes).
_PROBE = """
import importlib, importlib.abc, sys, traceback

BLOCKED = {blocked!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            chain = []
            for frame, _ in traceback.walk_stack(None):
                module = frame.f_globals.get("__name__", "")
                if frame.f_code.co_name == "<module>" and module not in chain and module != "__main__":
                    chain.append(module)
            raise ImportError(" -> ".join([*reversed(chain), name]) + " (blocked)")
        return None

sys.meta_path.insert(0, Block())
importlib.import_module({module!r})
"""

DOMAIN_BLOCKED = ["google.protobuf", "grpc", "sqlalchemy", "asyncpg", "novatrek"]
HANDLERS_BLOCKED = ["sqlalchemy", "asyncpg"]


def _modules(*patterns: str) -> list[str]:
    paths = sorted(path for pattern in patterns for path in ROOT.glob(pattern))
    return [".".join(path.relative_to(ROOT).with_suffix("").parts) for path in paths]


def _import_blocked(module: str, blocked: list[str]) -> subprocess.CompletedProcess:
    code = _PROBE.format(blocked=blocked, module=module)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_every_context_is_discovered():
    domains = {"services.reservations.domain", "services.guests.domain", "services.partners.domain"}
    assert domains <= set(_modules("services/*/domain.py"))
    assert "services.partners.handlers" in _modules("services/*/handlers.py")


def test_every_context_has_the_same_layout():
    # docs/architecture.md, "How a context is laid out"
    required = ["main", "config", "servicer", "protomap", "commands", "domain", "handlers", "db"]
    for context in {path.parent for path in ROOT.glob("services/*/domain.py")}:
        missing = [name for name in required if not (context / f"{name}.py").exists()]
        assert not missing, f"{context.name} has no {', '.join(missing)}"
        assert (context / "migrations").is_dir(), f"{context.name} has no migrations/"


# Commands and ports are what handlers and domains exchange: plain Python values too.
@pytest.mark.parametrize("module", (_modules("services/*/domain.py", "services/*/commands.py", "services/*/ports.py")))
def test_domain_commands_and_ports_import_no_protobuf_grpc_sql_or_generated_code(module):
    result = _import_blocked(module, DOMAIN_BLOCKED)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("module", (_modules("services/*/handlers.py")))
def test_handlers_import_no_sql(module):
    result = _import_blocked(module, HANDLERS_BLOCKED)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1]


def test_the_probe_names_the_chain():
    result = _import_blocked("services.chassis.protoconv", ["google.protobuf"])
    assert "services.chassis.protoconv -> google.protobuf" in result.stderr
