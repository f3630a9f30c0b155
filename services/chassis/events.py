"""Event contracts: subject and CloudEvents type read from the `novatrek.events.v1.event` option."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache

import novatrek
from google.protobuf.message import Message
from novatrek.events.v1 import options_pb2


@dataclass(frozen=True)
class EventSpec:
    subject: str
    ce_type: str
    full_name: str

    @property
    def domain(self) -> str:
        """`novatrek.booking.reservation.created` -> `booking`: one JetStream stream per domain."""
        return self.subject.split(".")[1]


def spec_of(message_cls: type[Message] | Message) -> EventSpec:
    descriptor = message_cls.DESCRIPTOR
    options = descriptor.GetOptions()
    if not options.HasExtension(options_pb2.event):
        raise TypeError(f"{descriptor.full_name} is not an event (no novatrek.events.v1.event option)")
    ext = options.Extensions[options_pb2.event]
    return EventSpec(ext.subject, ext.type, descriptor.full_name)


@cache
def all_event_specs() -> dict[str, tuple[EventSpec, type[Message]]]:
    """Every event message in the generated contracts, keyed by subject."""
    found: dict[str, tuple[EventSpec, type[Message]]] = {}
    for info in pkgutil.walk_packages(novatrek.__path__, "novatrek."):
        if not info.name.endswith("_pb2") or info.name.endswith("options_pb2"):
            continue
        module = importlib.import_module(info.name)
        for name in module.DESCRIPTOR.message_types_by_name:
            cls = getattr(module, name)
            if cls.DESCRIPTOR.GetOptions().HasExtension(options_pb2.event):
                spec = spec_of(cls)
                found[spec.subject] = (spec, cls)
    return found


def stream_subjects() -> dict[str, list[str]]:
    """Stream name -> subjects, one stream per domain prefix (`NOVATREK_BOOKING`: `novatrek.booking.>`)."""
    domains = sorted({spec.domain for spec, _ in all_event_specs().values()})
    return {f"NOVATREK_{d.upper().replace('-', '_')}": [f"novatrek.{d}.>"] for d in domains}
