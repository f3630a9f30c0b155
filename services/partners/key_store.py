"""The Idempotency-Keys of partner-integrations' creating calls: claimed in one statement, settled
with their answer (a booking, a registered partner's id, or a final error), released after a
transient failure."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from novatrek.partners.v1 import partners_pb2 as pb
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.chassis.typedjson import from_json, to_json
from services.partners.db import idempotency_keys
from services.partners.domain import PartnerBooking
from services.partners.ports import EarlierRequest
from services.partners.protomap import booking_from_pb

# A stored answer: the booking's JSON, or a registered partner's id, with its format's marker. The
# release before stored the serialized CreatePartnerBookingResponse (proto bytes, never starting with
# "{"): those rows are still read.
ANSWER_FORMAT = "partner_booking.v1"
REGISTRATION_FORMAT = "partner_registration.v1"


def _earlier(row: Any) -> EarlierRequest:
    earlier = EarlierRequest(row.request_hash, row.state == "in_flight")
    if row.response is None:
        return earlier
    if row.is_error:
        return replace(earlier, error=json.loads(row.response))
    if row.response[:1] != b"{":
        legacy = pb.CreatePartnerBookingResponse.FromString(row.response)
        return replace(earlier, booking=booking_from_pb(legacy.booking))
    answer = json.loads(row.response)
    if answer.get("format") == ANSWER_FORMAT:
        return replace(earlier, booking=from_json(PartnerBooking, answer["booking"]))
    if answer.get("format") == REGISTRATION_FORMAT:
        return replace(earlier, partner_id=uuid.UUID(answer["partner_id"]))
    raise ValueError(f"unknown stored answer format {answer.get('format')!r}")


def _claim_statement() -> sa.Insert:
    """The claim of a key (see IdempotencyRepository.claim), with parameters."""
    t, bp = idempotency_keys, sa.bindparam  # parameter names are no column's
    statement = pg_insert(t).values(
        partner_id=bp("claim_partner", type_=UUID),
        idempotency_key=bp("claim_key", type_=t.c.idempotency_key.type),
        request_hash=bp("claim_hash", type_=t.c.request_hash.type),
        state="in_flight",
        response=None,
        is_error=False,
        created_at=bp("claim_now", type_=t.c.created_at.type),
        expires_at=bp("claim_expires", type_=t.c.expires_at.type),
    )
    taken_over = {
        name: statement.excluded[name]
        for name in ("request_hash", "state", "response", "is_error", "created_at", "expires_at")
    }
    return statement.on_conflict_do_update(
        index_elements=["partner_id", "idempotency_key"],
        set_=taken_over,
        where=t.c.expires_at < bp("claim_now", type_=t.c.created_at.type),
    ).returning(t.c.partner_id)


def _complete_statement() -> sa.Update:
    t, bp = idempotency_keys, sa.bindparam
    return (
        sa.update(t)
        .where(t.c.partner_id == bp("done_partner", type_=UUID), t.c.idempotency_key == bp("done_key"))
        .values(state="completed", response=bp("done_response"), is_error=bp("done_error"))
    )


_CLAIM, _COMPLETE = _claim_statement(), _complete_statement()


class IdempotencyRepository:
    def __init__(self, conn) -> None:
        self.conn = conn

    async def claim(self, partner_id: uuid.UUID, key: str, request_hash: str, now: datetime, expires: datetime):
        """Claims the key for a request in flight; returns None when claimed, else the existing row.
        One statement: a row whose retention expired is taken over by the ON CONFLICT branch."""
        t = idempotency_keys
        params = {"claim_partner": partner_id, "claim_key": key, "claim_hash": request_hash, "claim_now": now}
        claimed = await self.conn.execute(_CLAIM, {**params, "claim_expires": expires})
        if claimed.first() is not None:
            return None
        row = (
            await self.conn.execute(sa.select(t).where(t.c.partner_id == partner_id, t.c.idempotency_key == key))
        ).one()
        return _earlier(row)

    async def complete(self, partner_id: uuid.UUID, key: str, booking: PartnerBooking) -> None:
        answer = {"format": ANSWER_FORMAT, "booking": to_json(booking)}
        await self._complete(partner_id, key, json.dumps(answer).encode(), is_error=False)

    async def complete_registration(self, scope: uuid.UUID, key: str, partner_id: uuid.UUID) -> None:
        answer = {"format": REGISTRATION_FORMAT, "partner_id": str(partner_id)}
        await self._complete(scope, key, json.dumps(answer).encode(), is_error=False)

    async def refuse(self, partner_id: uuid.UUID, key: str, error: dict) -> None:
        """Stores a final error (its chassis error_record) as the answer."""
        await self._complete(partner_id, key, json.dumps(error).encode(), is_error=True)

    async def _complete(self, partner_id: uuid.UUID, key: str, response: bytes, is_error: bool) -> None:
        params = {"done_partner": partner_id, "done_key": key, "done_response": response, "done_error": is_error}
        await self.conn.execute(_COMPLETE, params)

    async def release(self, partner_id: uuid.UUID, key: str) -> None:
        """Forgets a claim whose request failed transiently, so the partner may retry with it. A completed
        key stays: its answer was committed (a failure seen after the commit must not free it)."""
        t = idempotency_keys
        await self.conn.execute(
            sa.delete(t).where(t.c.partner_id == partner_id, t.c.idempotency_key == key, t.c.state == "in_flight")
        )

    async def purge_expired(self, now: datetime) -> int:
        return (
            await self.conn.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.expires_at < now))
        ).rowcount
