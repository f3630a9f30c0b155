"""Typed async client of payments."""

from __future__ import annotations

from decimal import Decimal

from novatrek.payments.v1 import payments_pb2 as pb
from novatrek.payments.v1 import payments_pb2_grpc

from clients.channel import call, open_channel
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["PaymentService"].full_name
# Every write is keyed (request_id, commission_record_id), so all may be retried.
IDEMPOTENT = ["ProcessPayment", "GetPayment", "ProcessCommission", "ReverseCommission", "ListPayouts"]


class PaymentsClient:
    def __init__(self, target: str, timeout_s: float = 3.0) -> None:
        self.channel = open_channel(target, {SERVICE: IDEMPOTENT})
        self.stub = payments_pb2_grpc.PaymentServiceStub(self.channel)
        self.timeout_s = timeout_s

    async def _call(self, method, request):
        return await call(method, request, "payments", self.timeout_s)

    async def process_commission(self, record_id: str, partner_id: str, booking_id: str, reservation_id: str,
                                 amount: Decimal, currency: str) -> pb.CommissionPayout:
        request = pb.ProcessCommissionRequest(commission_record_id=record_id, partner_id=partner_id, partner_booking_id=booking_id,
                                              reservation_id=reservation_id, amount=money_to_proto(amount, currency))
        return (await self._call(self.stub.ProcessCommission, request)).payout

    async def reverse_commission(self, record_id: str, reason: str) -> pb.CommissionPayout | None:
        answer = await self._call(self.stub.ReverseCommission, pb.ReverseCommissionRequest(commission_record_id=record_id, reason=reason))
        return answer.payout if answer.HasField("payout") else None

    async def payouts(self, partner_id: str) -> list[pb.CommissionPayout]:
        """Every payout of a partner (pages followed)."""
        found, token = [], ""
        while True:
            page = await self._call(self.stub.ListPayouts, pb.ListPayoutsRequest(partner_id=partner_id, page_size=100, page_token=token))
            found += page.payouts
            if not (token := page.next_page_token):
                return found

    async def close(self) -> None:
        await self.channel.close()
