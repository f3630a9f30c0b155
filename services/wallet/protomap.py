"""Wallet domain objects -> protobuf messages."""

from __future__ import annotations

from novatrek.wallet.v1 import wallet_pb2 as pb

from services.chassis.protoconv import money_to_proto, timestamp
from services.wallet.domain import Kind, Transaction, Wallet

KIND_TO_PB = {k: pb.TransactionKind.Value(f"TRANSACTION_KIND_{k.name}") for k in (Kind.TOP_UP, Kind.DEBIT, Kind.REFUND)}


def wallet_to_pb(w: Wallet) -> pb.Wallet:
    return pb.Wallet(
        customer_id=str(w.customer_id),
        company_id=str(w.company_id),
        currency=w.currency,
        cash=money_to_proto(w.cash, w.currency),
        bonus=money_to_proto(w.bonus, w.currency),
        total=money_to_proto(w.total, w.currency),
        update_time=timestamp(w.updated_at) if w.updated_at else None,
    )


def transaction_to_pb(t: Transaction) -> pb.Transaction:
    currency = t.currency or ""
    return pb.Transaction(
        operation_id=str(t.operation_id),
        kind=KIND_TO_PB[t.kind],
        cash=money_to_proto(t.cash, currency),
        bonus=money_to_proto(t.bonus, currency),
        create_time=timestamp(t.created_at),
        refunds_operation_id=str(t.refunds_operation_id) if t.refunds_operation_id else "",
        customer_id=str(t.customer_id) if t.customer_id else "",
        company_id=str(t.company_id) if t.company_id else "",
    )
