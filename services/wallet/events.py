"""Outbox payloads this context publishes."""

from __future__ import annotations

from novatrek.wallet.v1 import events_pb2

from services.chassis.protoconv import money_to_proto, timestamp
from services.wallet.domain import Transaction, Wallet


def topped_up(entry: Transaction, wallet: Wallet) -> events_pb2.WalletToppedUp:
    return events_pb2.WalletToppedUp(
        operation_id=str(entry.operation_id),
        customer_id=str(wallet.customer_id),
        company_id=str(wallet.company_id),
        cash=money_to_proto(entry.cash, wallet.currency),
        bonus=money_to_proto(entry.bonus, wallet.currency),
        cash_balance=money_to_proto(wallet.cash, wallet.currency),
        bonus_balance=money_to_proto(wallet.bonus, wallet.currency),
        occur_time=timestamp(entry.created_at),
    )
