"""Typed async client of loyalty."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from novatrek.loyalty.v1 import loyalty_pb2 as pb
from novatrek.loyalty.v1 import loyalty_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["LoyaltyService"].full_name
# Earnings, redemptions and reversals are keyed by operation_id, rules are upserts, the reads change
# nothing: every method may be retried.
IDEMPOTENT = [
    "SetEarnRule",
    "SetRedeemRule",
    "ListRules",
    "GetLoyaltyAccount",
    "EarnPoints",
    "RedeemPoints",
    "ReverseTransaction",
    "ListPointTransactions",
]
EarnSource = pb.EarnSource


class LoyaltyClient(TypedClient):
    dependency, service, stub_class = "loyalty", SERVICE, loyalty_pb2_grpc.LoyaltyServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def get_loyalty_account(self, member_id: str, company_ids: Sequence[str] = ()) -> pb.LoyaltyAccount:
        """The member's unexpired points, in all and per issuer; only those `company_ids` issued when
        some are given (a member without points: balance 0, no issuers)."""
        request = pb.GetLoyaltyAccountRequest(member_id=member_id, company_ids=list(company_ids))
        response: pb.GetLoyaltyAccountResponse = await self._call(self.stub.GetLoyaltyAccount, request)
        return response.account

    async def redeem_points(
        self,
        operation_id: str,
        member_id: str,
        company_id: str,
        points: int,
        issuer_company_ids: Sequence[str] = (),
    ) -> pb.RedeemPointsResponse:
        """Takes `points` at `company_id`, soonest-expiring lots first (of those issuers only, when
        given): `consumed` per issuer, `point_value` and `value`. FailedPrecondition NO_REDEEM_RULE or
        INSUFFICIENT_POINTS with nothing written; a repeat answers the same redemption."""
        request = pb.RedeemPointsRequest(
            operation_id=operation_id,
            member_id=member_id,
            company_id=company_id,
            points=points,
            issuer_company_ids=list(issuer_company_ids),
        )
        response: pb.RedeemPointsResponse = await self._call(self.stub.RedeemPoints, request)
        return response

    async def earn_points(
        self,
        operation_id: str,
        member_id: str,
        company_id: str,
        points: int = 0,
        amount: tuple[Decimal, str] | None = None,
        source: int = pb.EARN_SOURCE_UNSPECIFIED,
        category: str = "",
    ) -> pb.PointTransaction:
        """Explicit `points`, or an `amount` (value, currency) turned into points by the company's rule
        for `source` and `category`."""
        request = pb.EarnPointsRequest(
            operation_id=operation_id,
            member_id=member_id,
            company_id=company_id,
            points=points,
            amount=money_to_proto(*amount) if amount else None,
            source=source,  # type: ignore[arg-type]
            category=category,
        )
        response: pb.EarnPointsResponse = await self._call(self.stub.EarnPoints, request)
        return response.transaction

    async def reverse_transaction(self, operation_id: str, transaction_operation_id: str) -> pb.PointTransaction:
        """Takes an earning back or gives a redemption back; an unknown one answers a reversal of
        nothing (and is refused if it arrives later)."""
        request = pb.ReverseTransactionRequest(
            operation_id=operation_id, transaction_operation_id=transaction_operation_id
        )
        response: pb.ReverseTransactionResponse = await self._call(self.stub.ReverseTransaction, request)
        return response.transaction

    async def set_earn_rule(
        self, company_id: str, source: int, points_per_unit: str, category: str = "", expiry_days: int = 0
    ) -> pb.EarnRule:
        request = pb.SetEarnRuleRequest(
            company_id=company_id,
            source=source,  # type: ignore[arg-type]
            category=category,
            points_per_unit=points_per_unit,
            expiry_days=expiry_days,
        )
        response: pb.SetEarnRuleResponse = await self._call(self.stub.SetEarnRule, request)
        return response.rule

    async def set_redeem_rule(self, company_id: str, point_value: Decimal, currency: str) -> pb.RedeemRule:
        request = pb.SetRedeemRuleRequest(company_id=company_id, point_value=money_to_proto(point_value, currency))
        response: pb.SetRedeemRuleResponse = await self._call(self.stub.SetRedeemRule, request)
        return response.rule

    async def list_rules(self, company_id: str) -> pb.ListRulesResponse:
        response: pb.ListRulesResponse = await self._call(
            self.stub.ListRules, pb.ListRulesRequest(company_id=company_id)
        )
        return response

    async def list_point_transactions(
        self, member_id: str, page_size: int = 0, page_token: str = ""
    ) -> pb.ListPointTransactionsResponse:
        request = pb.ListPointTransactionsRequest(member_id=member_id, page_size=page_size, page_token=page_token)
        response: pb.ListPointTransactionsResponse = await self._call(self.stub.ListPointTransactions, request)
        return response
