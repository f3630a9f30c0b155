"""Typed async client of wallet."""

from __future__ import annotations

from decimal import Decimal

from novatrek.wallet.v1 import wallet_pb2 as pb
from novatrek.wallet.v1 import wallet_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["WalletService"].full_name
# Top-ups, debits and refunds are keyed by operation_id (a refund also answers once per debit), and
# the reads change nothing: every method may be retried.
IDEMPOTENT = ["GetWallet", "TopUpWallet", "DebitWallet", "RefundWallet", "ListWalletTransactions"]


class WalletClient(TypedClient):
    dependency, service, stub_class = "wallet", SERVICE, wallet_pb2_grpc.WalletServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def wallet(self, customer_id: str, company_id: str) -> pb.Wallet:
        """Zeros for a customer without entries."""
        request = pb.GetWalletRequest(customer_id=customer_id, company_id=company_id)
        response: pb.GetWalletResponse = await self._call(self.stub.GetWallet, request)
        return response.wallet

    async def top_up(
        self,
        operation_id: str,
        customer_id: str,
        company_id: str,
        currency: str,
        cash: Decimal,
        bonus: Decimal = Decimal(0),
    ) -> pb.TopUpWalletResponse:
        """CURRENCY_MISMATCH (FailedPrecondition) when the company keeps another currency."""
        request = pb.TopUpWalletRequest(
            operation_id=operation_id,
            customer_id=customer_id,
            company_id=company_id,
            cash=money_to_proto(cash, currency),
            bonus=money_to_proto(bonus, currency) if bonus else None,
        )
        response: pb.TopUpWalletResponse = await self._call(self.stub.TopUpWallet, request)
        return response

    async def debit(
        self, operation_id: str, customer_id: str, company_id: str, amount: Decimal, currency: str
    ) -> pb.DebitWalletResponse:
        """Bonus first, then cash (the transaction says how much of each). INSUFFICIENT_FUNDS,
        CURRENCY_MISMATCH or DEBIT_REFUNDED (FailedPrecondition) otherwise, with nothing written."""
        request = pb.DebitWalletRequest(
            operation_id=operation_id,
            customer_id=customer_id,
            company_id=company_id,
            amount=money_to_proto(amount, currency),
        )
        response: pb.DebitWalletResponse = await self._call(self.stub.DebitWallet, request)
        return response

    async def refund(self, operation_id: str, debit_operation_id: str) -> pb.RefundWalletResponse:
        """Gives back what the debit took; an unknown debit answers a refund of nothing (and is then
        refused if it arrives: the compensation of a debit whose answer was lost may always run)."""
        request = pb.RefundWalletRequest(operation_id=operation_id, debit_operation_id=debit_operation_id)
        response: pb.RefundWalletResponse = await self._call(self.stub.RefundWallet, request)
        return response

    async def transactions(
        self, customer_id: str, company_id: str, page_size: int = 0, page_token: str = ""
    ) -> pb.ListWalletTransactionsResponse:
        request = pb.ListWalletTransactionsRequest(
            customer_id=customer_id, company_id=company_id, page_size=page_size, page_token=page_token
        )
        response: pb.ListWalletTransactionsResponse = await self._call(self.stub.ListWalletTransactions, request)
        return response
