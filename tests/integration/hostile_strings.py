"""Hostile strings for every string field of every request (walked from the generated descriptors,
nested and repeated fields included) and for the metadata a service reads as input, and what an
answer to one must be: never INTERNAL / UNKNOWN; an INVALID_ARGUMENT names its field; a refused
character never comes back stored (docs/architecture.md, "Text inputs")."""

from __future__ import annotations

import re

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

from services.gateway.fields import is_map, is_repeated

MAX_DEPTH = 3
# Refused by every kind of text, wherever they stand (the strippable white space among them too, as
# the hostile values put them between other characters).
NEVER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
LINE_BREAKS = re.compile("[\t\n\r]")
# Free-text fields (Kind.TEXT): they may hold TAB and line breaks.
FREE_TEXT = {"reason", "description"}
# Metadata a service reads as input; gRPC's client sends printable ASCII only.
INPUT_METADATA = ("idempotency-key",)

_CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + ["\u2028", "\u2029", "\ufffe", "\U0010ffff"]
EXPLICIT = ["a\x00b", "a\r\nb", "a\tb", "a\u0085b", "a\u2028b", "\x1b[31mred", "x" * 100_000]
# Every field meets these; hypothesis draws the rest.
EVERY_FIELD = ["a\x00b", "a\r\nb", "a\tb", "a\u0085b", "a\u2029b"]
# Fields of which a request takes exactly one (the friendly request, which sets every field it knows,
# leaves this one out): CreateBooking names the customer (mesh) or the user (client surface).
ONE_OF = {"CreateBooking": "customer_id"}
# Request fields a method does not read (output-only fields of a resource, ids the path names
# elsewhere): what they hold is never stored, so they need not be refused.
IGNORED = {
    "trip.trip_id",
    "departure.departure_id",
    "activity.activity_id",
    "session.session_id",
    "session.company_id",
    "extra.extra_id",
    "guest.guest_id@CreateGuest",
    "partner.partner_id",
    "partner.api_key_prefix",
    "reservation.guest_id",
    "reservation.trip_id",
    "reservation.confirmation_code",
    "reservation.total_amount.currency_code",
    "participant.participant_id",
    "participant.reservation_id",
}


def hostile_text() -> st.SearchStrategy[str]:
    """Text with refused characters inside, or long; lone surrogates cannot travel in a proto string."""
    word = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)
    control = st.sampled_from(_CONTROLS)
    inside = st.tuples(word, control, word).map("".join)
    return st.one_of(inside, st.sampled_from(EXPLICIT), st.integers(256, 5000).map(lambda n: "é" * n))


def ascii_hostile() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", " ", "x" * 300, "%00", "' OR 1=1 --", "a b", "\\"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300),
    )


def string_paths(descriptor: Descriptor, prefix: str = "", depth: int = 0) -> list[str]:
    """Dotted paths of the string fields (`tiers[0].rate`: the first item of a repeated field)."""
    paths = []
    for field in descriptor.fields:
        path = prefix + field.name + ("[0]" if is_repeated(field) else "")
        if is_map(field):
            continue  # no request has a map of strings
        if field.message_type is not None:
            if depth < MAX_DEPTH:
                paths += string_paths(field.message_type, path + ".", depth + 1)
        elif field.type == FieldDescriptor.TYPE_STRING:
            paths.append(path)
    return paths


def with_value(base, path: str, value: str):
    """A copy of `base` with the string at `path` set (repeated fields get a first item if empty)."""
    message = type(base)()
    message.CopyFrom(base)
    *parents, leaf = path.split(".")
    target = message
    for part in parents:
        name = part.removesuffix("[0]")
        if part.endswith("[0]"):
            items = getattr(target, name)
            target = items[0] if len(items) else items.add()
        else:
            target = getattr(target, name)
    name = leaf.removesuffix("[0]")
    if leaf.endswith("[0]"):
        items = getattr(target, name)
        if len(items):
            items[0] = value
        else:
            items.append(value)
    else:
        setattr(target, name, value)
    return message


def friendly(descriptor: Descriptor, known: dict, depth: int = 0):
    """A request with every field that has a known value set to it (nested messages too): the hostile
    field is then most often the only thing wrong with it."""
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        values = known.get(field.name)
        if values and not is_repeated(field):
            value = values[0]
            getattr(message, field.name).CopyFrom(value) if field.message_type else setattr(message, field.name, value)
        elif values and field.message_type is None:
            getattr(message, field.name).append(values[0])
        elif field.message_type is not None and not is_repeated(field) and not is_map(field) and depth < MAX_DEPTH:
            nested = friendly(field.message_type, known, depth + 1)
            if nested.ByteSize():
                getattr(message, field.name).CopyFrom(nested)
    return message


def must_refuse(method: str, path: str, value: str) -> bool:
    """Whether the service must answer INVALID_ARGUMENT on this field for this value."""
    if path in IGNORED or f"{path}@{method}" in IGNORED or path.startswith("@"):
        return False
    leaf = path.split(".")[-1].removesuffix("[0]")
    value = value.strip()
    return bool(NEVER.search(value) or (leaf not in FREE_TEXT and LINE_BREAKS.search(value)))


def names_field(violations: dict, path: str) -> bool:
    """Whether a violation is about `path` (indexes aside; a field or one of its parents or children)."""
    plain = re.sub(r"\[\d+\]", "", path)
    return any(
        (f := re.sub(r"\[\d+\]", "", field)) == plain or plain.startswith(f + ".") or f.startswith(plain + ".")
        for field in violations
    )


def stored_refusal(answer_strings: list[str], path: str, value: str) -> str | None:
    """A refused character that came back in the answer: the value was taken as it was sent."""
    leaf = path.split(".")[-1].removesuffix("[0]")
    for s in answer_strings:
        if NEVER.search(s):
            return f"stored a control character: {s[:60]!r}"
        if leaf not in FREE_TEXT and LINE_BREAKS.search(value) and s == value.strip():
            return f"stored a line break in a one-line field: {s[:60]!r}"
    return None


def strings_of(message) -> list[str]:
    found = []
    for field, value in message.ListFields():
        items = value if is_repeated(field) else [value]
        for item in items:
            if field.message_type is not None and not is_map(field):
                found += strings_of(item)
            elif isinstance(item, str):
                found.append(item)
    return found
