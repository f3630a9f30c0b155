"""The guest-profiles port over its typed client: its NOT_FOUND becomes this context's GUEST_NOT_FOUND."""

from __future__ import annotations

import uuid

from clients.guests import GuestsClient
from services.businesses.domain import guest_not_found
from services.chassis.errors import NotFound


class GuestsOverGrpc:
    def __init__(self, client: GuestsClient) -> None:
        self.client = client

    async def ensure_exists(self, guest_id: uuid.UUID) -> None:
        try:
            await self.client.get(str(guest_id))
        except NotFound as missing:
            raise guest_not_found(guest_id) from missing
