"""Idempotency keys of partner-integrations' creating calls, one machinery for all: claim the key or
replay its answer, and free it after a transient failure. Keys are scoped by partner; the admin's
(RegisterPartner) by ADMIN_SCOPE, the nil UUID, which no partner has."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from services.chassis.errors import Aborted, InvalidArgument, error_from_record
from services.partners.ports import EarlierRequest

log = logging.getLogger("novatrek.partners")

ADMIN_SCOPE = uuid.UUID(int=0)


@dataclass(frozen=True)
class Claim:
    scope: uuid.UUID  # the partner's id, or ADMIN_SCOPE
    key: str
    request_hash: str


async def claim_or_replay(
    claim: Claim, deps, saga: tuple[uuid.UUID, dict[str, Any]] | None = None
) -> EarlierRequest | None:
    """None: the key is now this request's, in flight. Else its first request, answered (an answer
    that was an error is raised); another request under the key, or one in flight, is refused.
    `saga`: the id and opening row of the saga that will answer the key, written with the claim (one
    commit; a key is never in flight without the saga whose recovery settles it)."""
    now = deps.clock()
    async with deps.uow(autocommit=saga is None) as uow:
        earlier = await uow.idempotency.claim(
            claim.scope, claim.key, claim.request_hash, now, now + deps.idempotency_retention
        )
        if earlier is None and saga is not None:
            await uow.sagas.open(*saga)
    if earlier is None:
        return None
    if earlier.request_hash != claim.request_hash:
        raise InvalidArgument("this Idempotency-Key was used for a different request", reason="IDEMPOTENCY_KEY_REUSED")
    if earlier.in_flight:
        raise Aborted("a request with this Idempotency-Key is still in progress", reason="IDEMPOTENCY_KEY_IN_USE")
    if earlier.error is not None:
        raise error_from_record(earlier.error)
    return earlier


async def release_quietly(scope: uuid.UUID, key: str, deps) -> None:
    """Frees a key still in flight after its request failed transiently, so that a retry may succeed."""
    try:
        async with deps.uow() as uow:
            await uow.idempotency.release(scope, key)
    except Exception as exc:  # the key expires with its retention period at worst
        log.warning("could not release an idempotency key", extra={"error": repr(exc)})
