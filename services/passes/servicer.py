"""PassService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from novatrek.passes.v1 import passes_pb2 as pb
from novatrek.passes.v1 import passes_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.money import CURRENCY_MINOR_UNITS, quantize
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import money_from_proto, page_size, parse_uuid, time_from_proto
from services.chassis.text import text
from services.passes import commands, handlers
from services.passes.domain import MAX_ACTIVITIES, MAX_PRICE, MAX_SESSIONS, MAX_VALIDITY_DAYS, NAME_MAX
from services.passes.protomap import entitlement_to_pb, product_to_pb, usage_to_pb


def _price(request: pb.CreatePassProductRequest, v: Violations) -> tuple[Decimal, str]:
    """Exact: a known currency, at most its minor-unit decimals, zero or more, below MAX_PRICE."""
    if not v.check(request.HasField("price"), "price", "is required"):
        return Decimal(0), ""
    if (money := money_from_proto(request.price, "price", v)) is None:
        return Decimal(0), ""
    amount, currency = money
    decimals = CURRENCY_MINOR_UNITS[currency]
    v.check(quantize(amount, currency) == amount, "price.nanos", f"{currency} allows {decimals} decimals")
    v.check(Decimal(0) <= amount < MAX_PRICE, "price", f"must be at least 0 and below {MAX_PRICE:f}")
    return amount, currency


def _activity_ids(values, v: Violations) -> tuple[uuid.UUID, ...]:
    v.check(len(values) <= MAX_ACTIVITIES, "activity_ids", f"must hold at most {MAX_ACTIVITIES} activities")
    seen: set[uuid.UUID] = set()
    for i, value in enumerate(values):
        parsed, field = parse_uuid(value, f"activity_ids[{i}]", v), f"activity_ids[{i}]"
        if not v.refused(field) and not v.check(parsed not in seen, field, "appears earlier in the list"):
            continue
        seen.add(parsed)
    return tuple(sorted(seen))


class PassServicer(passes_pb2_grpc.PassServiceServicer):
    def __init__(self, deps: handlers.Deps, tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, tokens

    async def CreatePassProduct(self, request, context):
        v = Violations()
        price, currency = _price(request, v)
        cmd = commands.CreatePassProduct(
            request_id=parse_uuid(request.request_id, "request_id", v),
            company_id=parse_uuid(request.company_id, "company_id", v),
            name=text(request.name, "name", v, NAME_MAX),
            sessions=request.sessions,
            validity_days=request.validity_days,
            activity_ids=_activity_ids(request.activity_ids, v),
            price=price,
            currency=currency,
        )
        v.check(1 <= request.sessions <= MAX_SESSIONS, "sessions", f"must be 1-{MAX_SESSIONS}")
        v.check(1 <= request.validity_days <= MAX_VALIDITY_DAYS, "validity_days", f"must be 1-{MAX_VALIDITY_DAYS}")
        v.raise_if_any()
        return pb.CreatePassProductResponse(product=product_to_pb(await handlers.create_pass_product(cmd, self.deps)))

    async def GetPassProduct(self, request, context):
        v = Violations()
        product_id = parse_uuid(request.product_id, "product_id", v)
        v.raise_if_any()
        return pb.GetPassProductResponse(product=product_to_pb(await handlers.get_pass_product(product_id, self.deps)))

    async def IssueEntitlement(self, request, context):
        v = Violations()
        cmd = commands.IssueEntitlement(
            parse_uuid(request.request_id, "request_id", v),
            parse_uuid(request.product_id, "product_id", v),
            parse_uuid(request.customer_id, "customer_id", v),
        )
        v.raise_if_any()
        issued = await handlers.issue_entitlement(cmd, self.deps)
        return pb.IssueEntitlementResponse(entitlement=entitlement_to_pb(issued))

    async def GetEntitlement(self, request, context):
        v = Violations()
        entitlement_id = parse_uuid(request.entitlement_id, "entitlement_id", v)
        v.raise_if_any()
        found = await handlers.get_entitlement(entitlement_id, self.deps)
        return pb.GetEntitlementResponse(entitlement=entitlement_to_pb(found))

    async def ListEntitlements(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        customer_id = parse_uuid(request.customer_id, "customer_id", v)
        company_id = parse_uuid(request.company_id, "company_id", v, required=False)
        position = self.tokens.decode(request.page_token, {"customer_id": customer_id, "company_id": company_id}, v)
        v.raise_if_any()
        query = commands.ListEntitlements(customer_id, company_id, position, limit)
        found, after = await handlers.list_entitlements(query, self.deps)
        token = self.tokens.encode(after, {"customer_id": customer_id, "company_id": company_id}) if after else ""
        return pb.ListEntitlementsResponse(entitlements=[entitlement_to_pb(e) for e in found], next_page_token=token)

    async def ConsumeEntitlement(self, request, context):
        v = Violations()
        cmd = commands.ConsumeEntitlement(
            entitlement_id=parse_uuid(request.entitlement_id, "entitlement_id", v),
            booking_id=parse_uuid(request.booking_id, "booking_id", v),
            customer_id=parse_uuid(request.customer_id, "customer_id", v),
            activity_id=parse_uuid(request.activity_id, "activity_id", v),
            session_start=time_from_proto(request, "session_start", "session_start", v),
        )
        v.raise_if_any()
        done = await handlers.consume_entitlement(cmd, self.deps)
        return pb.ConsumeEntitlementResponse(
            entitlement=entitlement_to_pb(done.entitlement), usage=usage_to_pb(done.usage)
        )

    async def RestoreEntitlement(self, request, context):
        v = Violations()
        cmd = commands.RestoreEntitlement(
            parse_uuid(request.entitlement_id, "entitlement_id", v), parse_uuid(request.booking_id, "booking_id", v)
        )
        v.raise_if_any()
        done = await handlers.restore_entitlement(cmd, self.deps)
        return pb.RestoreEntitlementResponse(
            restored=done.restored,
            entitlement=entitlement_to_pb(done.entitlement) if done.entitlement else None,
            usage=usage_to_pb(done.usage) if done.usage else None,
        )
