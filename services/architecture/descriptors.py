"""The contracts of a source tree as descriptors: compiled with their comments (source info) by
grpcio-tools' protoc, so the catalog reads names, kinds and owners from the options and summaries
from the comments. Fingerprints say whether a type's definition changed between two trees."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pb2
from novatrek.architecture.v1 import options_pb2 as arch  # registers the extensions before parsing
from novatrek.events.v1 import options_pb2 as events

from services.cli.gen import _googleapis_root, _wkt_root

# DescriptorProto field numbers, for source-info paths (descriptor.proto)
FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, MESSAGE_FIELD, MESSAGE_NESTED, MESSAGE_ENUM, SERVICE_METHOD = 4, 5, 6, 2, 3, 4, 2
KINDS = {arch.KIND_COMMAND: "command", arch.KIND_QUERY: "query", arch.KIND_EVENT: "event", arch.KIND_ENTITY: "entity"}


@dataclass
class Type:
    full_name: str
    file: descriptor_pb2.FileDescriptorProto
    proto: descriptor_pb2.DescriptorProto | descriptor_pb2.EnumDescriptorProto
    comment: str
    field_comments: dict[str, str] = field(default_factory=dict)

    @property
    def is_message(self) -> bool:
        return isinstance(self.proto, descriptor_pb2.DescriptorProto)

    def resource(self) -> arch.Resource | None:
        if not isinstance(self.proto, descriptor_pb2.DescriptorProto):
            return None
        options = self.proto.options
        return options.Extensions[arch.resource] if options.HasExtension(arch.resource) else None

    def is_event(self) -> bool:
        return isinstance(self.proto, descriptor_pb2.DescriptorProto) and self.proto.options.HasExtension(events.event)

    def references(self) -> list[str]:
        if not isinstance(self.proto, descriptor_pb2.DescriptorProto):
            return []
        return [f.type_name.lstrip(".") for f in self.proto.field if f.type_name]


@dataclass
class Contracts:
    files: list[descriptor_pb2.FileDescriptorProto]
    types: dict[str, Type]
    comments: dict[tuple[str, tuple[int, ...]], str]
    root: Path = Path(".")  # the source tree compiled

    def own_files(self) -> Iterator[descriptor_pb2.FileDescriptorProto]:
        return (f for f in self.files if f.name.startswith("novatrek/"))

    def closure(self, names: list[str]) -> list[str]:
        """The types these names use, transitively (their schema), sorted."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.types:
                continue
            seen.add(name)
            todo.extend(self.types[name].references())
        return sorted(seen)

    def definition(self, name: str) -> bytes:
        return self.types[name].proto.SerializeToString(deterministic=True)

    def fingerprint(self, names: list[str], *also: str) -> str:
        digest = hashlib.sha256("\0".join(also).encode())
        for name in self.closure(names):
            digest.update(name.encode() + b"\0" + self.definition(name))
        return digest.hexdigest()[:16]


def compile_tree(root: Path) -> Contracts:
    from grpc_tools import protoc

    protos = root / "protos"
    sources = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        args = ["protoc", f"-I{protos}", f"-I{_googleapis_root()}", f"-I{_wkt_root()}", "--include_imports"]
        if protoc.main([*args, "--include_source_info", f"--descriptor_set_out={out}", *sources]) != 0:
            raise SystemExit(f"protoc failed on {protos}")
        files = list(descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file)
    contracts = index(files)
    contracts.root = root
    return contracts


def index(files: list[descriptor_pb2.FileDescriptorProto]) -> Contracts:
    comments = {
        (f.name, tuple(loc.path)): " ".join(line.strip() for line in loc.leading_comments.split())
        for f in files
        for loc in f.source_code_info.location
        if loc.leading_comments.strip()
    }
    types: dict[str, Type] = {}
    for f in files:
        _index_types(f, f.package, f.message_type, f.enum_type, (), comments, types)
    return Contracts(files, types, comments)


def _index_types(f, prefix: str, messages, enums, path: tuple[int, ...], comments, types: dict[str, Type]) -> None:
    nested = path != ()
    for i, m in enumerate(messages):
        here = (*path, MESSAGE_NESTED if nested else FILE_MESSAGE, i)
        name = f"{prefix}.{m.name}"
        fields = {fd.name: comments.get((f.name, (*here, MESSAGE_FIELD, j)), "") for j, fd in enumerate(m.field)}
        types[name] = Type(name, f, m, comments.get((f.name, here), ""), fields)
        _index_types(f, name, m.nested_type, m.enum_type, here, comments, types)
    for i, e in enumerate(enums):
        here = (*path, MESSAGE_ENUM if nested else FILE_ENUM, i)
        types[f"{prefix}.{e.name}"] = Type(f"{prefix}.{e.name}", f, e, comments.get((f.name, here), ""))
