"""Typed async client of payments."""

from __future__ import annotations

from decimal import Decimal

from novatrek.payments.v1 import payments_pb2 as pb
from novatrek.payments.v1 import payments_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["PaymentService"].full_name
# Every write is keyed (request_id, commission_record_id), so all may be retried.
IDEMPOTENT = ["ProcessPayment", "GetPayment", "ProcessCommission", "ReverseCommission", "ListPayouts"]


class PaymentsClient(TypedClient):
    dependency, service, stub_class = "payments", SERVICE, payments_pb2_grpc.PaymentServiceStub
    idempotent = tuple(IDEMPOTENT)

    async def process_commission(
        self, record_id: str, partner_id: str, booking_id: str, reservation_id: str, amount: Decimal, currency: str
    ) -> pb.CommissionPayout:
        request = pb.ProcessCommissionRequest(
            commission_record_id=record_id,
            partner_id=partner_id,
            partner_booking_id=booking_id,
            reservation_id=reservation_id,
            amount=money_to_proto(amount, currency),
        )
        response: pb.ProcessCommissionResponse = await self._call(self.stub.ProcessCommission, request)
        return response.payout

    async def reverse_commission(self, record_id: str, reason: str) -> pb.CommissionPayout | None:
        answer: pb.ReverseCommissionResponse = await self._call(
            self.stub.ReverseCommission, pb.ReverseCommissionRequest(commission_record_id=record_id, reason=reason)
        )
        return answer.payout if answer.HasField("payout") else None

    async def payouts(self, partner_id: str) -> list[pb.CommissionPayout]:
        """Every payout of a partner (pages followed)."""
        found: list[pb.CommissionPayout] = []
        token = ""
        while True:
            page: pb.ListPayoutsResponse = await self._call(
                self.stub.ListPayouts, pb.ListPayoutsRequest(partner_id=partner_id, page_size=100, page_token=token)
            )
            found += page.payouts
            if not (token := page.next_page_token):
                return found
