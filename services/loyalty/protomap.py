"""Loyalty domain objects -> protobuf messages, and the enum maps."""

from __future__ import annotations

from decimal import Decimal

from google.type import money_pb2
from novatrek.loyalty.v1 import loyalty_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.loyalty.domain import Account, EarnRule, Kind, RedeemRule, Source, Transaction

SOURCE_TO_PB = {s: pb.EarnSource.Value(f"EARN_SOURCE_{s.name}") for s in Source}
SOURCE_FROM_PB: dict[int, Source] = {v: s for s, v in SOURCE_TO_PB.items()}
KIND_TO_PB = {
    k: pb.PointTransactionKind.Value(f"POINT_TRANSACTION_KIND_{name}")
    for k, name in ((Kind.EARN, "EARN"), (Kind.REDEEM, "REDEEM"), (Kind.REVERSAL, "REVERSAL"), (Kind.EXPIRY, "EXPIRY"))
}


def earn_rule_to_pb(r: EarnRule) -> pb.EarnRule:
    return pb.EarnRule(
        company_id=str(r.company_id),
        source=SOURCE_TO_PB[r.source],
        category=r.category,
        points_per_unit=str(r.points_per_unit.normalize()) if r.points_per_unit else "0",
        expiry_days=r.expiry_days,
        update_time=timestamp(r.updated_at),
    )


def redeem_rule_to_pb(r: RedeemRule) -> pb.RedeemRule:
    return pb.RedeemRule(
        company_id=str(r.company_id),
        point_value=money_to_proto(r.point_value, r.currency),
        update_time=timestamp(r.updated_at),
    )


def account_to_pb(a: Account) -> pb.LoyaltyAccount:
    return pb.LoyaltyAccount(
        member_id=str(a.member_id),
        balance=a.balance,
        balances_by_issuer=[pb.IssuerBalance(company_id=str(c), points=p) for c, p in a.by_issuer],
        next_expire_time=timestamp(a.next_expire_time) if a.next_expire_time else None,
    )


def issuer_points(t: Transaction, sign: int = 1) -> list[pb.IssuerPoints]:
    return [pb.IssuerPoints(issuer_company_id=str(c), points=sign * p) for c, p in t.by_issuer]


def transaction_to_pb(t: Transaction) -> pb.PointTransaction:
    def money(value: Decimal | None) -> money_pb2.Money | None:
        return money_to_proto(value, t.currency) if value is not None else None

    return pb.PointTransaction(
        operation_id=str(t.operation_id),
        member_id=str(t.member_id) if t.member_id else "",
        kind=KIND_TO_PB[t.kind],
        company_id=str(t.company_id) if t.company_id else "",
        points=t.points,
        by_issuer=issuer_points(t),
        source=SOURCE_TO_PB[t.source] if t.source else pb.EARN_SOURCE_UNSPECIFIED,
        category=t.category,
        amount=money(t.amount),
        expire_time=timestamp(t.expire_time) if t.expire_time else None,
        point_value=money(t.point_value),
        value=money(t.value),
        reverses_operation_id=str(t.reverses_operation_id) if t.reverses_operation_id else "",
        shortfall_points=t.shortfall,
        create_time=timestamp(t.created_at),
    )
