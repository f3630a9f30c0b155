"""The one validator of text inputs (docs/architecture.md, "Text inputs"): every string a servicer reads
from a request goes through `text` (trimmed, required or not, bounded) or `clean` (as sent).

No kind may hold NUL (PostgreSQL refuses it: it was a 500), other C0 controls, DEL, C1 controls
(NEL U+0085 among them), the Unicode line and paragraph separators U+2028/U+2029, or noncharacters
(U+FFFE, U+FDD0…, permanently reserved for a program's internal use). A LINE (names, e-mails,
identifiers, references, codes, URLs, tokens, search filters) also refuses TAB, LF and CR: it is
one line that logs, CSV exports and e-mail headers print as it is. Only TEXT (a reason, a
description, a note) may hold TAB and line breaks. Bidirectional controls are allowed: right-to-left
names and references need them, and the places that display text isolate it."""

from __future__ import annotations

import re
from enum import Enum

from services.chassis.errors import Violations

_NEVER = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufdd0-\ufdef\ufffe\uffff"
_NONCHARACTER_PLANES = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))


class Kind(Enum):
    LINE = re.compile(f"[\t\n\r{_NEVER}{_NONCHARACTER_PLANES}]")
    TEXT = re.compile(f"[{_NEVER}{_NONCHARACTER_PLANES}]")


# One description for every kind (the one clients know): what counts is in docs/architecture.md.
_REFUSAL = "must not contain control characters"


def clean(value: str, field: str, violations: Violations, kind: Kind = Kind.LINE, max_len: int | None = None) -> str:
    """`value` as sent (not trimmed), checked: a violation on `field` for a character its kind refuses,
    or for more than `max_len` characters."""
    violations.check(not kind.value.search(value), field, _REFUSAL)
    if max_len is not None:
        violations.check(len(value) <= max_len, field, f"must be at most {max_len} characters")
    return value


def text(
    value: str, field: str, violations: Violations, max_len: int, required: bool = True, kind: Kind = Kind.LINE
) -> str:
    """A trimmed text field: required or not, bounded, and clean for its kind."""
    value = value.strip()
    if required and not value:
        violations.add(field, "is required")
    elif len(value) > max_len:
        violations.add(field, f"must be at most {max_len} characters")
    return clean(value, field, violations, kind)
