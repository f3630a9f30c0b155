"""`google.api.http` path templates: parsing, matching, and a router that picks the most specific.

Grammar (google/api/http.proto):
    Template = "/" Segments [ Verb ] ;   Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;   Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;   Verb = ":" LITERAL ;
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import unquote

# Segment kinds, valued by specificity: a literal beats `*`, which beats `**`.
MANY, ONE, LITERAL = 0, 1, 2
_FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Segment:
    kind: int
    text: str = ""


@dataclass(frozen=True)
class Variable:
    field_path: str
    start: int  # first segment index
    end: int  # one past the last segment index


@dataclass(frozen=True)
class PathTemplate:
    source: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str = ""

    @property
    def specificity(self) -> tuple:
        # A custom verb is the most specific thing a template can say, then segment by segment.
        return (bool(self.verb), tuple(s.kind for s in self.segments))

    @property
    def shape(self) -> tuple:
        """Equal for templates that match exactly the same paths."""
        return (self.verb, tuple((s.kind, s.text) for s in self.segments))

    def match(self, parts: list[str]) -> dict[str, str] | None:
        """`parts`: the raw (still percent-encoded) path split on '/'. Returns the variables' values."""
        if self.verb:
            suffix = ":" + self.verb
            if not parts[-1].endswith(suffix):
                return None
            parts = [*parts[:-1], parts[-1][: -len(suffix)]]
        tail = bool(self.segments) and self.segments[-1].kind == MANY
        if len(parts) < len(self.segments) - tail or (not tail and len(parts) != len(self.segments)):
            return None
        for segment, part in zip(self.segments, parts, strict=False):
            if segment.kind == LITERAL and unquote(part) != segment.text:
                return None
            if segment.kind == ONE and not part:
                return None
        values = {}
        for var in self.variables:
            end = len(parts) if tail and var.end == len(self.segments) else var.end
            values[var.field_path] = "/".join(unquote(p) for p in parts[var.start : end])
        return values

    def render(self, name: Callable[[str], str] = lambda path: path) -> str:
        """The template with each variable as `{name(field_path)}` (OpenAPI style)."""
        out, i = [], 0
        starts = {v.start: v for v in self.variables}
        while i < len(self.segments):
            if i in starts:
                out.append("{" + name(starts[i].field_path) + "}")
                i = max(starts[i].end, i + 1)
            else:
                out.append({MANY: "**", ONE: "*"}.get(self.segments[i].kind, self.segments[i].text))
                i += 1
        return "/" + "/".join(out) + (":" + self.verb if self.verb else "")


def _split_top_level(text: str, sep: str) -> list[tuple[int, str]]:
    """Splits on `sep` outside braces; returns (offset, piece) pairs."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth not in (0, 1):
            raise TemplateError(f"unbalanced braces in {text!r}")
        if ch == sep and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
    if depth:
        raise TemplateError(f"unbalanced braces in {text!r}")
    return [*pieces, (start, text[start:])]


def _plain_segment(text: str, source: str) -> Segment:
    if text == "**":
        return Segment(MANY)
    if text == "*":
        return Segment(ONE)
    if not text or any(c in text for c in "{}*:"):
        raise TemplateError(f"bad segment {text!r} in {source!r}")
    return Segment(LITERAL, text)


def parse_template(source: str) -> PathTemplate:
    if not source.startswith("/"):
        raise TemplateError(f"template must start with '/': {source!r}")
    pieces = [p for _, p in _split_top_level(source[1:], "/")]
    verb = ""
    if ":" in pieces[-1] and not pieces[-1].endswith("}"):
        # The verb follows the last ':' outside a variable of the last segment.
        last, verb = pieces[-1].rsplit(":", 1)
        if not verb or "}" in verb:
            raise TemplateError(f"bad verb in {source!r}")
        pieces[-1] = last
    segments: list[Segment] = []
    variables: list[Variable] = []
    for piece in pieces:
        if piece.startswith("{") and piece.endswith("}"):
            path, _, inner = piece[1:-1].partition("=")
            if not _FIELD_PATH.fullmatch(path) or any(v.field_path == path for v in variables):
                raise TemplateError(f"bad or repeated variable {path!r} in {source!r}")
            start = len(segments)
            segments += [_plain_segment(p, source) for _, p in _split_top_level(inner or "*", "/")]
            variables.append(Variable(path, start, len(segments)))
        else:
            segments.append(_plain_segment(piece, source))
    if any(s.kind == MANY for s in segments[:-1]):
        raise TemplateError(f"'**' may only be the last segment: {source!r}")
    return PathTemplate(source, tuple(segments), tuple(variables), verb)


class Routable(Protocol):
    @property
    def http_method(self) -> str: ...
    @property
    def template(self) -> PathTemplate: ...


Route = TypeVar("Route", bound=Routable)


class NoRoute(LookupError):
    pass


class MethodNotAllowed(LookupError):
    def __init__(self, allowed: set[str]) -> None:
        super().__init__(", ".join(sorted(allowed)))
        self.allowed = allowed


class Router(Generic[Route]):
    """Most specific template first; a path that some route matches but not with this method is a 405."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted(routes, key=lambda r: r.template.specificity, reverse=True)
        seen: dict[tuple[str, object], Route] = {}
        for route in self.routes:
            key = (route.http_method, route.template.shape)
            if key in seen:
                raise TemplateError(f"{route.http_method} {route.template.source} is bound twice")
            seen[key] = route

    def resolve(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
        if not raw_path.startswith("/"):
            raise NoRoute(raw_path)
        parts = raw_path[1:].split("/")
        allowed: set[str] = set()
        for route in self.routes:
            values = route.template.match(parts)
            if values is None:
                continue
            if route.http_method == method:
                return route, values
            allowed.add(route.http_method)
        if allowed:
            raise MethodNotAllowed(allowed)
        raise NoRoute(raw_path)
