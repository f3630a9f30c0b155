"""`novatrek events`: the dead-letter stream (list, redrive) and a live tail of decoded events."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import nats
from google.protobuf import json_format
from nats.js.errors import NotFoundError

from services.chassis.broker import DLQ_STREAM
from services.chassis.events import all_event_specs

DLQ_HEADERS = ("x-dlq-reason", "x-dlq-subject", "x-dlq-consumer", "x-dlq-deliveries", "x-dlq-time")


@dataclass(frozen=True)
class Parked:
    seq: int
    subject: str  # where it was published originally
    consumer: str
    reason: str
    deliveries: str
    parked_at: str
    event_id: str
    headers: dict
    data: bytes


async def parked(nc) -> list[Parked]:
    js = nc.jetstream()
    try:
        state = (await js.stream_info(DLQ_STREAM)).state
    except NotFoundError:
        return []
    found = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        try:
            msg = await js.get_msg(DLQ_STREAM, seq)
        except NotFoundError:  # deleted after a redrive
            continue
        h = dict(msg.headers or {})
        found.append(
            Parked(
                seq,
                h.get("x-dlq-subject", ""),
                h.get("x-dlq-consumer", ""),
                h.get("x-dlq-reason", ""),
                h.get("x-dlq-deliveries", ""),
                h.get("x-dlq-time", ""),
                h.get("ce-id", ""),
                h,
                msg.data,
            )
        )
    return found


async def redrive(nc, seqs: set[int] | None = None) -> int:
    """Publishes parked messages again on their original subject and removes them from the
    dead-letter stream. The ce-id is kept, so a consumer that did handle one meanwhile skips it;
    the Nats-Msg-Id is new, or JetStream would drop it as a duplicate of the original."""
    js, count = nc.jetstream(), 0
    for p in await parked(nc):
        if seqs is not None and p.seq not in seqs:
            continue
        headers = {k: v for k, v in p.headers.items() if k not in DLQ_HEADERS}
        headers["Nats-Msg-Id"] = f"redrive:{p.seq}:{p.event_id}"
        await js.publish(p.subject, p.data, headers=headers, timeout=5)
        await js.delete_msg(DLQ_STREAM, p.seq)
        count += 1
    return count


def decode(subject: str, data: bytes, headers: dict) -> dict:
    """An event as JSON: the contract's message when the subject is known, else the raw size."""
    known = all_event_specs().get(subject)
    body = json_format.MessageToDict(known[1].FromString(data)) if known else {"bytes": len(data)}
    return {
        "subject": subject,
        "type": headers.get("ce-type", ""),
        "id": headers.get("ce-id", ""),
        "time": headers.get("ce-time", ""),
        "data": body,
    }


async def tail(nc, subject: str, count: int | None, out=print) -> None:
    done, seen = asyncio.Event(), 0

    async def show(msg) -> None:
        nonlocal seen
        out(json.dumps(decode(msg.subject, msg.data, dict(msg.headers or {}))))
        seen += 1
        if count is not None and seen >= count:
            done.set()

    await nc.subscribe(subject, cb=show)
    await done.wait()


async def run(nats_url: str, action: str, **options) -> int:
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=3)
    try:
        if action == "list":
            rows = await parked(nc)
            for p in rows:
                print(
                    json.dumps(
                        {
                            "seq": p.seq,
                            "subject": p.subject,
                            "consumer": p.consumer,
                            "deliveries": p.deliveries,
                            "parked_at": p.parked_at,
                            "event_id": p.event_id,
                            "reason": p.reason,
                        }
                    )
                )
            print(f"{len(rows)} parked message(s)")
        elif action == "redrive":
            print(f"redriven {await redrive(nc, options.get('seqs'))} message(s)")
        else:
            await tail(nc, options["subject"], options.get("count"))
    finally:
        await nc.close()
    return 0
