"""What the use cases need from guest-profiles (pure)."""

from __future__ import annotations

import uuid
from typing import Protocol


class Guests(Protocol):
    async def ensure_exists(self, guest_id: uuid.UUID) -> None:
        """Returns when guest-profiles knows the guest; FailedPrecondition GUEST_NOT_FOUND when it
        does not, Unavailable when it cannot answer."""
