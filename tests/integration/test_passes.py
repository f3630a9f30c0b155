"""passes through gRPC on real PostgreSQL: products and entitlements, consumes that never go below zero
(a storm of bookings on one entitlement), restores that never go above the total, idempotent replays,
tombstones of restores that overtook their consume, the refusals, and bad input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa
from google.type.money_pb2 import Money
from novatrek.passes.v1 import passes_pb2 as pb
from sqlalchemy.ext.asyncio import create_async_engine

from clients.passes import PassClient
from services.chassis.protoconv import timestamp
from tests.helpers import fails

CONSUMED, RESTORED = pb.USAGE_STATUS_CONSUMED, pb.USAGE_STATUS_RESTORED
FORFEITED, TOMBSTONE = pb.USAGE_STATUS_FORFEITED, pb.USAGE_STATUS_TOMBSTONE
FAILED = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture(scope="module")
async def db(passes_service):
    engine = create_async_engine(passes_service.database_url)
    yield engine
    await engine.dispose()


def new_id() -> str:
    return str(uuid.uuid4())


def soon(days: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


async def product(stub, sessions: int = 10, activities: tuple[str, ...] = (), validity_days: int = 30, company=None):
    request = pb.CreatePassProductRequest(
        request_id=new_id(),
        company_id=company or new_id(),
        name="Ten climbing sessions",
        sessions=sessions,
        validity_days=validity_days,
        activity_ids=list(activities),
        price=Money(currency_code="EUR", units=120, nanos=500_000_000),
    )
    return (await stub.CreatePassProduct(request)).product


async def entitlement(stub, sessions: int = 10, activities: tuple[str, ...] = (), customer=None):
    made = await product(stub, sessions, activities)
    request = pb.IssueEntitlementRequest(
        request_id=new_id(), product_id=made.product_id, customer_id=customer or new_id()
    )
    return (await stub.IssueEntitlement(request)).entitlement


def consume(e: pb.CustomerEntitlement, booking: str | None = None, activity: str | None = None, start=None, **kw):
    return pb.ConsumeEntitlementRequest(
        entitlement_id=e.entitlement_id,
        booking_id=booking or new_id(),
        customer_id=kw.get("customer", e.customer_id),
        activity_id=activity or new_id(),
        session_start=timestamp(start or soon()),
    )


def restore(e: pb.CustomerEntitlement, booking: str) -> pb.RestoreEntitlementRequest:
    return pb.RestoreEntitlementRequest(entitlement_id=e.entitlement_id, booking_id=booking)


async def remaining(stub, e: pb.CustomerEntitlement) -> int:
    got = await stub.GetEntitlement(pb.GetEntitlementRequest(entitlement_id=e.entitlement_id))
    return got.entitlement.sessions_remaining


async def test_products_and_entitlements_are_created_once_per_request(passes_stub):
    activity = new_id()
    request = pb.CreatePassProductRequest(
        request_id=new_id(),
        company_id=new_id(),
        name="  Five yoga classes ",
        sessions=5,
        validity_days=90,
        activity_ids=[activity],
        price=Money(currency_code="JPY", units=9000),
    )
    made = (await passes_stub.CreatePassProduct(request)).product
    assert made.name == "Five yoga classes" and list(made.activity_ids) == [activity]
    assert (made.price.currency_code, made.price.units) == ("JPY", 9000)
    assert (await passes_stub.CreatePassProduct(request)).product == made
    got = await passes_stub.GetPassProduct(pb.GetPassProductRequest(product_id=made.product_id))
    assert got.product == made
    request.sessions = 6
    assert (await fails(passes_stub.CreatePassProduct(request))).reason == "IDEMPOTENCY_KEY_REUSED"

    customer, key = new_id(), new_id()
    issue = pb.IssueEntitlementRequest(request_id=key, product_id=made.product_id, customer_id=customer)
    issued = (await passes_stub.IssueEntitlement(issue)).entitlement
    assert (issued.sessions_total, issued.sessions_remaining, list(issued.activity_ids)) == (5, 5, [activity])
    assert issued.company_id == made.company_id and issued.customer_id == customer
    assert issued.expire_time.ToSeconds() - issued.valid_from.ToSeconds() == 90 * 86400
    assert (await passes_stub.IssueEntitlement(issue)).entitlement == issued
    issue.customer_id = new_id()
    assert (await fails(passes_stub.IssueEntitlement(issue))).reason == "IDEMPOTENCY_KEY_REUSED"
    unknown = pb.IssueEntitlementRequest(request_id=new_id(), product_id=new_id(), customer_id=customer)
    failure = await fails(passes_stub.IssueEntitlement(unknown))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "PASS_PRODUCT_NOT_FOUND")
    failure = await fails(passes_stub.GetPassProduct(pb.GetPassProductRequest(product_id=new_id())))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "PASS_PRODUCT_NOT_FOUND")


async def test_consume_and_restore_and_their_replays(passes_stub):
    e = await entitlement(passes_stub, sessions=3)
    booking, activity, start = new_id(), new_id(), soon(2)
    first = await passes_stub.ConsumeEntitlement(consume(e, booking, activity, start))
    assert first.entitlement.sessions_remaining == 2
    assert (first.usage.status, first.usage.booking_id, first.usage.activity_id) == (CONSUMED, booking, activity)
    replay = await passes_stub.ConsumeEntitlement(consume(e, booking, activity, start))
    assert replay.usage == first.usage and replay.entitlement.sessions_remaining == 2
    other_activity = await fails(passes_stub.ConsumeEntitlement(consume(e, booking, new_id(), start)))
    assert other_activity.reason == "IDEMPOTENCY_KEY_REUSED"

    back = await passes_stub.RestoreEntitlement(restore(e, booking))
    assert back.restored and back.usage.status == RESTORED and back.entitlement.sessions_remaining == 3
    again = await passes_stub.RestoreEntitlement(restore(e, booking))
    assert again.restored and again.entitlement.sessions_remaining == 3, "never above the total"
    late = await fails(passes_stub.ConsumeEntitlement(consume(e, booking, activity, start)))
    assert (late.code, late.reason) == (FAILED, "USAGE_RESTORED")
    assert await remaining(passes_stub, e) == 3


async def test_a_restore_before_its_consume_leaves_a_tombstone(passes_stub):
    e = await entitlement(passes_stub, sessions=2)
    booking = new_id()
    answer = await passes_stub.RestoreEntitlement(restore(e, booking))
    assert not answer.restored and answer.usage.status == TOMBSTONE and answer.entitlement.sessions_remaining == 2
    assert (await passes_stub.RestoreEntitlement(restore(e, booking))).usage == answer.usage
    late = await fails(passes_stub.ConsumeEntitlement(consume(e, booking)))
    assert (late.code, late.reason, late.metadata["booking_id"]) == (FAILED, "USAGE_RESTORED", booking)
    assert await remaining(passes_stub, e) == 2
    nothing = await passes_stub.RestoreEntitlement(
        pb.RestoreEntitlementRequest(entitlement_id=new_id(), booking_id=new_id())
    )
    assert not nothing.restored and not nothing.HasField("entitlement") and not nothing.HasField("usage")


async def test_refusals(passes_stub):
    covered = new_id()
    e = await entitlement(passes_stub, sessions=1, activities=(covered,))
    failure = await fails(passes_stub.ConsumeEntitlement(consume(e, activity=new_id())))
    assert (failure.code, failure.reason) == (FAILED, "ENTITLEMENT_NOT_APPLICABLE")
    failure = await fails(passes_stub.ConsumeEntitlement(consume(e, activity=covered, start=soon(31))))
    assert (failure.code, failure.reason) == (FAILED, "ENTITLEMENT_EXPIRED")
    failure = await fails(passes_stub.ConsumeEntitlement(consume(e, activity=covered, customer=new_id())))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "ENTITLEMENT_NOT_FOUND")
    await passes_stub.ConsumeEntitlement(consume(e, activity=covered))
    failure = await fails(passes_stub.ConsumeEntitlement(consume(e, activity=covered)))
    assert (failure.code, failure.reason, failure.metadata["entitlement_id"]) == (
        FAILED,
        "ENTITLEMENT_EXHAUSTED",
        e.entitlement_id,
    )
    failure = await fails(passes_stub.GetEntitlement(pb.GetEntitlementRequest(entitlement_id=new_id())))
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "ENTITLEMENT_NOT_FOUND")
    assert await remaining(passes_stub, e) == 0


async def test_a_storm_of_bookings_takes_exactly_the_sessions_there_are(passes_stub):
    e = await entitlement(passes_stub, sessions=10)
    bookings = [new_id() for _ in range(40)]
    results = await asyncio.gather(
        *(passes_stub.ConsumeEntitlement(consume(e, b)) for b in bookings), return_exceptions=True
    )
    taken = [r for r in results if isinstance(r, pb.ConsumeEntitlementResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(taken) == 10 and len(refused) == 30
    assert {r.code() for r in refused} == {FAILED}
    assert sorted(t.entitlement.sessions_remaining for t in taken) == list(range(10))
    assert await remaining(passes_stub, e) == 0
    # a storm of restores and replays of the same bookings gives each session back once
    winners = [t.usage.booking_id for t in taken]
    await asyncio.gather(*(passes_stub.RestoreEntitlement(restore(e, b)) for b in winners + winners + bookings[:5]))
    assert await remaining(passes_stub, e) == 10


async def test_twins_of_one_booking_take_one_session(passes_stub):
    e = await entitlement(passes_stub, sessions=5)
    twin = consume(e)
    answers = await asyncio.gather(*(passes_stub.ConsumeEntitlement(twin) for _ in range(8)))
    assert {a.usage.booking_id for a in answers} == {twin.booking_id}
    assert await remaining(passes_stub, e) == 4


async def test_nothing_is_restored_past_expiry(passes_stub, db):
    e = await entitlement(passes_stub, sessions=4)
    booking = new_id()
    await passes_stub.ConsumeEntitlement(consume(e, booking, start=datetime.now(UTC) + timedelta(hours=1)))
    async with db.begin() as conn:  # the entitlement's validity runs out
        await conn.execute(
            sa.text(
                "UPDATE passes.entitlements SET expire_time = now() - interval '1 minute' WHERE entitlement_id = :e"
            ),
            {"e": e.entitlement_id},
        )
    answer = await passes_stub.RestoreEntitlement(restore(e, booking))
    assert not answer.restored and answer.usage.status == FORFEITED and answer.entitlement.sessions_remaining == 3
    assert (await passes_stub.RestoreEntitlement(restore(e, booking))).usage == answer.usage
    failure = await fails(passes_stub.ConsumeEntitlement(consume(e)))
    assert (failure.code, failure.reason) == (FAILED, "ENTITLEMENT_EXPIRED")
    assert await remaining(passes_stub, e) == 3


async def test_list_entitlements_pages_newest_first(passes_stub):
    customer, company = new_id(), new_id()
    made = [await product(passes_stub, company=company if i % 2 else None) for i in range(5)]
    issued = [
        (await passes_stub.IssueEntitlement(pb.IssueEntitlementRequest(
            request_id=new_id(), product_id=p.product_id, customer_id=customer
        ))).entitlement
        for p in made
    ]  # fmt: skip
    seen, token = [], ""
    while True:
        page = await passes_stub.ListEntitlements(
            pb.ListEntitlementsRequest(customer_id=customer, page_size=2, page_token=token)
        )
        seen += [e.entitlement_id for e in page.entitlements]
        if not (token := page.next_page_token):
            break
    assert seen == [e.entitlement_id for e in reversed(issued)]
    of_company = await passes_stub.ListEntitlements(
        pb.ListEntitlementsRequest(customer_id=customer, company_id=company)
    )
    assert [e.entitlement_id for e in of_company.entitlements] == [issued[3].entitlement_id, issued[1].entitlement_id]
    first = await passes_stub.ListEntitlements(pb.ListEntitlementsRequest(customer_id=customer, page_size=2))
    failure = await fails(
        passes_stub.ListEntitlements(
            pb.ListEntitlementsRequest(customer_id=new_id(), page_size=2, page_token=first.next_page_token)
        )
    )
    assert set(failure.violations) == {"page_token"}


async def test_bad_requests_name_every_field(passes_stub):
    failure = await fails(
        passes_stub.CreatePassProduct(
            pb.CreatePassProductRequest(
                request_id="nope",
                company_id="",
                name="a\nb",
                sessions=0,
                validity_days=4000,
                activity_ids=["x", str(uuid.UUID(int=1)), str(uuid.UUID(int=1))],
                price=Money(currency_code="EUR", units=1, nanos=1),
            )
        )
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure.violations) == {
        "request_id", "company_id", "name", "sessions", "validity_days", "activity_ids[0]", "activity_ids[2]",
        "price.nanos",
    }  # fmt: skip
    failure = await fails(passes_stub.CreatePassProduct(pb.CreatePassProductRequest()))
    assert {"price", "name", "request_id", "company_id", "sessions", "validity_days"} == set(failure.violations)
    negative = pb.CreatePassProductRequest(price=Money(currency_code="XXX", units=-1))
    failure = await fails(passes_stub.CreatePassProduct(negative))
    assert "price.currency_code" in failure.violations
    failure = await fails(passes_stub.ConsumeEntitlement(pb.ConsumeEntitlementRequest(booking_id="1")))
    assert set(failure.violations) == {"entitlement_id", "booking_id", "customer_id", "activity_id", "session_start"}
    failure = await fails(passes_stub.RestoreEntitlement(pb.RestoreEntitlementRequest(entitlement_id="x")))
    assert set(failure.violations) == {"entitlement_id", "booking_id"}
    failure = await fails(passes_stub.IssueEntitlement(pb.IssueEntitlementRequest()))
    assert set(failure.violations) == {"request_id", "product_id", "customer_id"}
    failure = await fails(passes_stub.ListEntitlements(pb.ListEntitlementsRequest(company_id="x", page_size=101)))
    assert set(failure.violations) == {"customer_id", "company_id", "page_size"}


async def test_the_typed_client(passes_service, passes_stub):
    e = await entitlement(passes_stub, sessions=2)
    client = PassClient(passes_service.address)
    try:
        booking = new_id()
        used = await client.consume(e.entitlement_id, booking, e.customer_id, new_id(), soon())
        assert used.entitlement.sessions_remaining == 1 and used.usage.status == CONSUMED
        back = await client.restore(e.entitlement_id, booking)
        assert back.restored and back.entitlement.sessions_remaining == 2
        assert (await client.entitlement(e.entitlement_id)).sessions_remaining == 2
    finally:
        await client.close()
