"""Typed async client of payments."""

from __future__ import annotations

from decimal import Decimal

from novatrek.payments.v1 import payments_pb2 as pb
from novatrek.payments.v1 import payments_pb2_grpc

from clients.channel import TypedClient
from services.chassis.protoconv import money_to_proto

SERVICE = pb.DESCRIPTOR.services_by_name["PaymentService"].full_name
# Every write is keyed, so all may be retried: ProcessPayment by request_id, the commission RPCs by
# commission_record_id, AuthorizePayment by checkout_id (the processor is called with that key too, so
# a retry after a lost answer authorizes once); capturing and voiding an authorization are idempotent
# transitions (a captured one stays captured, a voided one voided).
IDEMPOTENT = [
    "ProcessPayment",
    "GetPayment",
    "ProcessCommission",
    "ReverseCommission",
    "ListPayouts",
    "AuthorizePayment",
    "GetAuthorization",
    "CapturePayment",
    "VoidAuthorization",
]


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

    async def authorize(
        self, checkout_id: str, guest_id: str, amount: Decimal, currency: str, method_reference: str
    ) -> pb.Authorization:
        """A decline is an answer (status DECLINED); an outage or timeout raises Unavailable."""
        request = pb.AuthorizePaymentRequest(
            checkout_id=checkout_id,
            guest_id=guest_id,
            amount=money_to_proto(amount, currency),
            method_reference=method_reference,
        )
        response: pb.AuthorizePaymentResponse = await self._call(self.stub.AuthorizePayment, request)
        return response.authorization

    async def get_authorization(self, authorization_id: str) -> pb.Authorization:
        response: pb.GetAuthorizationResponse = await self._call(
            self.stub.GetAuthorization, pb.GetAuthorizationRequest(authorization_id=authorization_id)
        )
        return response.authorization

    async def capture(self, authorization_id: str) -> pb.Authorization:
        response: pb.CapturePaymentResponse = await self._call(
            self.stub.CapturePayment, pb.CapturePaymentRequest(authorization_id=authorization_id)
        )
        return response.authorization

    async def void(
        self, *, authorization_id: str = "", checkout_id: str = "", reason: str = ""
    ) -> pb.Authorization | None:
        """By one of the two ids; by checkout_id it also voids a hold whose answer was lost. None when
        there is no authorization."""
        request = pb.VoidAuthorizationRequest(authorization_id=authorization_id, checkout_id=checkout_id, reason=reason)
        response: pb.VoidAuthorizationResponse = await self._call(self.stub.VoidAuthorization, request)
        return response.authorization if response.HasField("authorization") else None
