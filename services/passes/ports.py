"""What the use cases exchange with the pass store."""

from __future__ import annotations


class DuplicateUsage(Exception):
    """A concurrent request for the same booking wrote its usage first (this one took nothing)."""
