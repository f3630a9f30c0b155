"""LoyaltyService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from google.type import money_pb2
from novatrek.loyalty.v1 import loyalty_pb2 as pb
from novatrek.loyalty.v1 import loyalty_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.money import quantize
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import money_from_proto, page_size, parse_uuid
from services.chassis.text import text
from services.loyalty import domain, handlers
from services.loyalty.commands import Earn, GetAccount, ListTransactions, Redeem, Reverse, SetEarnRule, SetRedeemRule
from services.loyalty.domain import Source
from services.loyalty.protomap import (
    SOURCE_FROM_PB,
    account_to_pb,
    earn_rule_to_pb,
    issuer_points,
    redeem_rule_to_pb,
    transaction_to_pb,
)

ZERO = Decimal(0)


def _ids(request, v: Violations, *fields: str) -> list[uuid.UUID]:
    return [parse_uuid(getattr(request, name), name, v) for name in fields]


def _id_set(values, field: str, v: Violations) -> frozenset[uuid.UUID]:
    v.check(len(values) <= domain.MAX_ISSUERS, field, f"must name at most {domain.MAX_ISSUERS} companies")
    return frozenset(parse_uuid(value, f"{field}[{i}]", v) for i, value in enumerate(values[: domain.MAX_ISSUERS]))


def _source(value: int, field: str, v: Violations, required: bool) -> Source | None:
    if value == pb.EARN_SOURCE_UNSPECIFIED and not required:
        return None
    v.check(value in SOURCE_FROM_PB, field, "must be EARN_SOURCE_TRIP, EARN_SOURCE_SESSION or EARN_SOURCE_ORDER")
    return SOURCE_FROM_PB.get(value, Source.SESSION)


def _points(value: int, field: str, v: Violations) -> int:
    ok = v.check(0 < value < domain.MAX_POINTS, field, f"must be more than 0 and less than {domain.MAX_POINTS}")
    return value if ok else 1


def _points_per_unit(value: str, v: Violations) -> Decimal:
    try:
        rate = Decimal(value.strip()) if value.strip() else None
    except InvalidOperation:
        rate = None
    ok = v.check(rate is not None and rate.is_finite(), "points_per_unit", "must be a decimal number such as 1 or 0.5")
    if ok and rate is not None:
        ok = v.check(ZERO <= rate <= domain.MAX_POINTS_PER_UNIT, "points_per_unit", "must be from 0 to 10000")
        ok = ok and v.check(
            rate == round(rate, domain.POINTS_PER_UNIT_DECIMALS), "points_per_unit", "has more than 4 decimals"
        )
    return rate if ok and rate is not None else ZERO


def _money(money: money_pb2.Money, field: str, v: Violations, high: Decimal, positive: bool) -> tuple[Decimal, str]:
    """(amount, currency) of a Money field: a known currency, from 0 (above 0 when `positive`) to below
    `high`. A refused one is (0, its currency code)."""
    parsed = money_from_proto(money, field, v)
    if parsed is None:
        return ZERO, money.currency_code
    amount, currency = parsed
    ok = v.check(
        amount > 0 if positive else amount >= 0, field, "must be more than zero" if positive else "must not be negative"
    )
    ok &= v.check(amount < high, field, f"must be less than {high}")
    return (amount if ok else ZERO), currency


class LoyaltyServicer(loyalty_pb2_grpc.LoyaltyServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def SetEarnRule(self, request, context):
        v = Violations()
        (company_id,) = _ids(request, v, "company_id")
        source = _source(request.source, "source", v, required=True)
        category = text(request.category, "category", v, domain.MAX_CATEGORY, required=False)
        rate = _points_per_unit(request.points_per_unit, v)
        days = request.expiry_days
        v.check(0 <= days <= domain.MAX_EXPIRY_DAYS, "expiry_days", f"must be from 0 to {domain.MAX_EXPIRY_DAYS}")
        v.raise_if_any()
        assert source is not None
        rule = await handlers.set_earn_rule(SetEarnRule(company_id, source, category, rate, days), self.deps)
        return pb.SetEarnRuleResponse(rule=earn_rule_to_pb(rule))

    async def SetRedeemRule(self, request, context):
        v = Violations()
        (company_id,) = _ids(request, v, "company_id")
        value, currency = ZERO, ""
        if v.check(request.HasField("point_value"), "point_value", "is required"):
            value, currency = _money(request.point_value, "point_value", v, domain.MAX_POINT_VALUE, positive=True)
        v.raise_if_any()
        rule = await handlers.set_redeem_rule(SetRedeemRule(company_id, currency, value.normalize()), self.deps)
        return pb.SetRedeemRuleResponse(rule=redeem_rule_to_pb(rule))

    async def ListRules(self, request, context):
        v = Violations()
        (company_id,) = _ids(request, v, "company_id")
        v.raise_if_any()
        earn_rules, redeem_rule = await handlers.list_rules(company_id, self.deps)
        return pb.ListRulesResponse(
            earn_rules=[earn_rule_to_pb(r) for r in earn_rules],
            redeem_rule=redeem_rule_to_pb(redeem_rule) if redeem_rule else None,
        )

    async def GetLoyaltyAccount(self, request, context):
        v = Violations()
        (member_id,) = _ids(request, v, "member_id")
        companies = _id_set(request.company_ids, "company_ids", v)
        v.raise_if_any()
        account = await handlers.get_account(GetAccount(member_id, companies), self.deps)
        return pb.GetLoyaltyAccountResponse(account=account_to_pb(account))

    async def EarnPoints(self, request, context):
        v = Violations()
        operation_id, member_id, company_id = _ids(request, v, "operation_id", "member_id", "company_id")
        points, amount, currency = None, None, ""
        has_amount = request.HasField("amount")
        if request.points or not has_amount:
            v.check(not (request.points and has_amount), "amount", "give points or an amount, not both")
            points = _points(request.points, "points", v)
        else:
            amount, currency = _money(request.amount, "amount", v, domain.MAX_AMOUNT, positive=False)
            if not v.refused("amount") and not v.refused("amount.currency_code"):
                v.check(quantize(amount, currency) == amount, "amount", f"has more decimals than {currency} allows")
        source = _source(request.source, "source", v, required=has_amount)
        category = text(request.category, "category", v, domain.MAX_CATEGORY, required=False)
        v.raise_if_any()
        cmd = Earn(operation_id, member_id, company_id, points, amount, currency, source, category)
        return pb.EarnPointsResponse(transaction=transaction_to_pb(await handlers.earn(cmd, self.deps)))

    async def RedeemPoints(self, request, context):
        v = Violations()
        operation_id, member_id, company_id = _ids(request, v, "operation_id", "member_id", "company_id")
        points = _points(request.points, "points", v)
        issuers = _id_set(request.issuer_company_ids, "issuer_company_ids", v)
        v.raise_if_any()
        entry = await handlers.redeem(Redeem(operation_id, member_id, company_id, points, issuers), self.deps)
        answer = transaction_to_pb(entry)
        return pb.RedeemPointsResponse(
            transaction=answer,
            consumed=issuer_points(entry, sign=-1),
            point_value=answer.point_value,
            value=answer.value,
        )

    async def ReverseTransaction(self, request, context):
        v = Violations()
        operation_id, target = _ids(request, v, "operation_id", "transaction_operation_id")
        if not v.refused("operation_id") and not v.refused("transaction_operation_id"):
            v.check(operation_id != target, "operation_id", "must differ from transaction_operation_id")
        v.raise_if_any()
        entry = await handlers.reverse(Reverse(operation_id, target), self.deps)
        return pb.ReverseTransactionResponse(transaction=transaction_to_pb(entry))

    async def ListPointTransactions(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        (member_id,) = _ids(request, v, "member_id")
        filters = {"member_id": str(member_id)}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, after = await handlers.list_transactions(ListTransactions(member_id, position, limit), self.deps)
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListPointTransactionsResponse(
            transactions=[transaction_to_pb(t) for t in found], next_page_token=token
        )
