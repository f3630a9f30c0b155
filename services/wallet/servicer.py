"""WalletService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import uuid
from decimal import Decimal

from google.type import money_pb2
from novatrek.wallet.v1 import wallet_pb2 as pb
from novatrek.wallet.v1 import wallet_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.money import quantize
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import money_from_proto, page_size, parse_uuid
from services.wallet import handlers
from services.wallet.commands import Debit, ListTransactions, Refund, TopUp
from services.wallet.domain import MAX_AMOUNT, ZERO
from services.wallet.protomap import transaction_to_pb, wallet_to_pb


def _money(money: money_pb2.Money, field: str, v: Violations, positive: bool) -> tuple[Decimal, str]:
    """(amount, currency) of a Money field: a known currency, no more decimals than it has, from 0
    (above 0 when `positive`) to below MAX_AMOUNT. A refused one is (0, its currency code)."""
    parsed = money_from_proto(money, field, v)
    if parsed is None:
        return ZERO, money.currency_code
    amount, currency = parsed
    ok = v.check(
        amount > 0 if positive else amount >= 0, field, "must be more than zero" if positive else "must not be negative"
    )
    ok &= v.check(amount < MAX_AMOUNT, field, f"must be less than {MAX_AMOUNT}")
    ok &= v.check(quantize(amount, currency) == amount, field, f"has more decimals than {currency} allows")
    return (amount if ok else ZERO), currency


def _ids(request, v: Violations, *fields: str) -> list[uuid.UUID]:
    return [parse_uuid(getattr(request, name), name, v) for name in fields]


class WalletServicer(wallet_pb2_grpc.WalletServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def GetWallet(self, request, context):
        v = Violations()
        customer_id, company_id = _ids(request, v, "customer_id", "company_id")
        v.raise_if_any()
        return pb.GetWalletResponse(wallet=wallet_to_pb(await handlers.get_wallet(customer_id, company_id, self.deps)))

    async def TopUpWallet(self, request, context):
        v = Violations()
        operation_id, customer_id, company_id = _ids(request, v, "operation_id", "customer_id", "company_id")
        cash, currency = _money(request.cash, "cash", v, positive=False)
        bonus = ZERO
        if request.HasField("bonus"):
            bonus, bonus_currency = _money(request.bonus, "bonus", v, positive=False)
            if not v.refused("cash.currency_code") and not v.refused("bonus.currency_code"):
                v.check(bonus_currency == currency, "bonus.currency_code", "must be the cash's currency")
        if not v.refused("cash") and not v.refused("bonus"):
            v.check(cash + bonus > 0, "cash", "must be more than zero, or a bonus given")
        v.raise_if_any()
        wallet, entry = await handlers.top_up(
            TopUp(operation_id, customer_id, company_id, currency, cash, bonus), self.deps
        )
        return pb.TopUpWalletResponse(wallet=wallet_to_pb(wallet), transaction=transaction_to_pb(entry))

    async def DebitWallet(self, request, context):
        v = Violations()
        operation_id, customer_id, company_id = _ids(request, v, "operation_id", "customer_id", "company_id")
        amount, currency = _money(request.amount, "amount", v, positive=True)
        v.raise_if_any()
        entry, wallet = await handlers.debit(Debit(operation_id, customer_id, company_id, currency, amount), self.deps)
        return pb.DebitWalletResponse(transaction=transaction_to_pb(entry), wallet=wallet_to_pb(wallet))

    async def RefundWallet(self, request, context):
        v = Violations()
        operation_id, debit_operation_id = _ids(request, v, "operation_id", "debit_operation_id")
        if not v.refused("operation_id") and not v.refused("debit_operation_id"):
            v.check(operation_id != debit_operation_id, "operation_id", "must differ from debit_operation_id")
        v.raise_if_any()
        entry, wallet = await handlers.refund(Refund(operation_id, debit_operation_id), self.deps)
        return pb.RefundWalletResponse(
            transaction=transaction_to_pb(entry), wallet=wallet_to_pb(wallet) if wallet else None
        )

    async def ListWalletTransactions(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        customer_id, company_id = _ids(request, v, "customer_id", "company_id")
        filters = {"customer_id": str(customer_id), "company_id": str(company_id)}
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, after = await handlers.list_transactions(
            ListTransactions(customer_id, company_id, position, limit), self.deps
        )
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListWalletTransactionsResponse(
            transactions=[transaction_to_pb(t) for t in found], next_page_token=token
        )
